"""GB 45438 labels: the Annex E model, provider codes, signatures and explicit-label text rules."""
