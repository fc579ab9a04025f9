"""Audit: typed events appended in the same transaction as the change they record."""
