"""Identity: API keys (real-name verification of users comes later)."""
