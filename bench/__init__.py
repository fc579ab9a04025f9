"""Benchmarks with peers side by side. ``make bench`` runs them and rewrites docs/benchmarks.md."""
