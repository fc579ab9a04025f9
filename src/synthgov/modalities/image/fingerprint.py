"""PDQ perceptual hashes (Meta's PDQ via the pdqhash bindings): the fallback for tracing an image
whose metadata and watermark are both gone. 256-bit hashes; Hamming distance <= 31 is PDQ's
recommended match threshold (the search: synthgov.fingerprints.index). The image is first reduced
to at most 256 px (the PDQ reference reduces large inputs too; the hash itself is computed on a
64 x 64 reduction), which keeps the cost near 2 ms whatever the input size. Stored hashes and
queries go through the same reduction.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import numpy as np


MAX_SIDE = 256
MATCH_DISTANCE = 31


def _pixels(data: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    im.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale directly
    return _reduced(im)


def _reduced(im: Image.Image) -> np.ndarray:
    import numpy as np

    im = im.convert("RGB")
    im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(im)


def _pack(bits) -> bytes:
    import numpy as np

    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def pdq(data: bytes) -> tuple[bytes, int]:
    """(32-byte hash, quality 0-100) of the image."""
    import pdqhash

    bits, quality = pdqhash.compute(_pixels(data))
    return _pack(bits), int(quality)


def pdq_image(im: Image.Image) -> tuple[bytes, int]:
    """(32-byte hash, quality) of an image already in memory (the labeled frame: no decode)."""
    import pdqhash

    bits, quality = pdqhash.compute(_reduced(im.copy()))
    return _pack(bits), int(quality)


def pdq_dihedral(data: bytes) -> list[bytes]:
    """The hashes of all eight rotations and mirror images, for queries."""
    import pdqhash

    hashes, _quality = pdqhash.compute_dihedral(_pixels(data))
    return [_pack(h) for h in hashes]
