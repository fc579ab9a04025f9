"""Command-line surface: mounts each domain's ``cli.py``."""
