"""Perceptual fingerprint search behind one protocol: a readable linear reference now, a faster
index (faiss, optional) later, with the same answers (architecture rule 8)."""
