"""Labeling: apply explicit and metadata labels to generated content and record how it was made."""
