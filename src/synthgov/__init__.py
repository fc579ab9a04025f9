"""synthgov: labeling, tracing and governance for deep-synthesis (generative AI) services."""

__version__ = "0.1.0"
