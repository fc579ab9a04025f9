"""Per-scheme keys derived from the provider's one watermark master key (HKDF-SHA256, RFC 5869).

Each scheme (and each version of one) gets its own key, so a weakness in one channel, or a key
exposed to a partner for one modality, says nothing about the others.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_MASTER_BYTES = 16
CONTEXT = b"synthgov/watermark-scheme/"


def scheme_key(master: bytes, scheme: str, length: int = 32) -> bytes:
    if len(master) < MIN_MASTER_BYTES:
        raise ValueError(f"the watermark master key must be at least {MIN_MASTER_BYTES} bytes")
    if not scheme:
        raise ValueError("a scheme name is required")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=CONTEXT + scheme.encode()).derive(master)
