"""Tracing: read every label in a file, verify it, and trace it to its generation record."""
