"""Modality handlers: small typed classes behind capability protocols (architecture rule 7)."""
