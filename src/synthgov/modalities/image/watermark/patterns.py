"""Keyed patterns: the pilot and one orthonormal code pattern per coded bit, on a grid of cells,
and their smooth tiles (what the embedder adds and what the detector correlates with)."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

import numpy as np
from PIL import Image

from synthgov.modalities.image.watermark.config import CODEC, ImageWatermarkConfig


@lru_cache(maxsize=8)
def basis(key: bytes, grid: int) -> np.ndarray:
    """Keyed orthonormal cell patterns (QR of keyed Gaussian noise), unit RMS: the pilot and the
    coded-bit codes.

    Orthogonal codes carry no interference between bits, which random +/-1 codes would (with 188
    codes in 1,024 cells that alone caps the per-bit SNR near 2).
    """
    seed = int.from_bytes(hmac.new(key, b"synthgov-watermark-v2/patterns", hashlib.sha256).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((grid * grid, 1 + CODEC.coded_bits)))
    return (q.T * grid).astype(np.float32).reshape(-1, grid, grid)


def patterns(key: bytes, cfg: ImageWatermarkConfig) -> tuple[np.ndarray, np.ndarray]:
    """(pilot grid x grid, codes coded_bits x grid x grid)."""
    b = basis(key, cfg.grid)
    return b[0], b[1 : 1 + CODEC.coded_bits]


def smooth_tile(cells: np.ndarray, side: int) -> np.ndarray:
    """A smooth, periodic ``side`` x ``side`` tile from cell values (cubic on a wrapped grid)."""
    grid = cells.shape[0]
    padded = np.pad(cells, 2, mode="wrap").astype(np.float32)
    img = Image.fromarray(padded, mode="F")
    cell = side / grid
    big = img.resize((round((grid + 4) * cell), round((grid + 4) * cell)), Image.Resampling.BICUBIC)
    arr = np.asarray(big, dtype=np.float32)
    off = round(2 * cell)
    return arr[off : off + side, off : off + side]


@lru_cache(maxsize=8)
def matched(key: bytes, cfg: ImageWatermarkConfig) -> tuple[np.ndarray, np.ndarray]:
    """Smooth tile-sized versions of the pilot and the codes: the detector's matched filters."""
    b = basis(key, cfg.grid)
    return smooth_tile(b[0], cfg.tile), np.stack([smooth_tile(c, cfg.tile).ravel() for c in b[1:]])


@lru_cache(maxsize=8)
def crosstalk_inverse(key: bytes, cfg: ImageWatermarkConfig) -> np.ndarray:
    """Inverse of the matched filters' Gram matrix (regularised): smoothing makes the filters
    slightly non-orthogonal, and the embedder pre-compensates so the detector reads clean symbols."""
    smooth_pilot, smooth_codes = matched(key, cfg)
    filters = np.concatenate([smooth_pilot.ravel()[None], smooth_codes]).astype(np.float64)
    pilot, codes = patterns(key, cfg)
    rows = np.concatenate([pilot[None], codes]).reshape(1 + CODEC.coded_bits, -1) / cfg.grid
    # response of filter i to the smooth tile of basis vector j (what one unit of j looks like)
    shapes = np.stack([smooth_tile(b.reshape(cfg.grid, cfg.grid), cfg.tile).ravel() for b in rows]).astype(np.float64)
    gram = filters @ shapes.T
    gram /= np.mean(np.diag(gram))
    return np.linalg.inv(gram + 0.05 * np.eye(len(gram)))
