"""Keyed patterns: the pilot and one orthonormal code pattern per coded bit, on a grid of cells,
and their smooth tiles (what the embedder adds and what the detector correlates with)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
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


def shaped_cells(cells: np.ndarray, cfg: ImageWatermarkConfig) -> np.ndarray:
    """Cell values as the embedder lays them: without what is coarser than the detector reads
    (``jnd.highpass``; slow blotches cost sight and carry nothing)."""
    from scipy.ndimage import gaussian_filter

    if cfg.jnd.highpass <= 0:
        return cells
    shaped: np.ndarray = cells - gaussian_filter(cells, cfg.jnd.highpass * cfg.grid / cfg.tile, mode="wrap",
                                                 truncate=3.0)
    return shaped


@dataclass(frozen=True)
class ReadingModel:
    """The linear map from basis coefficients to the detector's readings, traced through everything
    in between: the cells' high-pass, the smooth tile, the detector's own high-pass and its matched
    filters. None of them keeps the codes exactly orthogonal (the two high-passes alone capped a
    clean reading at about 8 dB of symbol SNR), and neither does a picture whose mark is strong in
    some places and faint in others, or a crop that covers some cells more often than others: so
    the embedder pre-compensates the map, and the detector equalises what it reads (``equalise``)."""

    filters: np.ndarray  # (1 + coded bits) x tile²: the matched filters, pilot first
    seen: np.ndarray  # the same count x tile²: what the detector's high-pass leaves of each basis vector's tile
    response: np.ndarray  # filters @ seen.T, normalised to a unit mean diagonal: reading i of one unit of vector j
    inverse: np.ndarray  # its regularised inverse: the coefficients whose reading is a given target
    raw: np.ndarray  # filters @ seen.T as it is
    filters_low: np.ndarray  # filters and seen in 2 x 2 means, for the weighted map's slowly varying part
    seen_low: np.ndarray

    def weighted(self, weight: np.ndarray) -> np.ndarray:
        """filters @ diag(weight) @ seen.T, for a weight that varies slowly across the tile: the mean
        weight times the exact map plus the deviation at half resolution (16 times cheaper than the
        whole product, and exact for a constant weight)."""
        from synthgov.modalities.image.watermark.frontend import block_mean

        low = block_mean(weight, 2)
        mean = float(low.mean())
        deviation = (self.filters_low * (low.ravel() - mean)[None, :]) @ self.seen_low.T
        out: np.ndarray = mean * self.raw + 4.0 * deviation.astype(np.float64)
        return out

    def equalise(self, tile: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """The target readings (pilot first) estimated from a folded, whitened tile whose cells were
        seen with ``weight`` (the folded map of where the mark is and how strongly the detector
        weights it there): least squares through the weighted map instead of the plain readings, so
        uneven amplitude and coverage do not make the codes interfere."""
        readings = self.filters @ tile.ravel()
        weighted = self.weighted(weight)  # reading i of one unit of vector j, here
        scale = float(np.mean(np.diag(weighted)))
        if not np.isfinite(scale) or scale <= 1e-12:
            return np.asarray(self.response @ (self.inverse @ readings))
        weighted /= scale
        gram = weighted.T @ weighted
        ridge = 1e-2 * np.mean(np.diag(gram)) * np.eye(len(gram))
        coeffs = np.linalg.solve(gram + ridge, weighted.T @ (readings / scale))
        return np.asarray(self.response @ coeffs)


@lru_cache(maxsize=8)
def reading_model(key: bytes, cfg: ImageWatermarkConfig) -> ReadingModel:
    from scipy.ndimage import gaussian_filter

    from synthgov.modalities.image.watermark.frontend import HIGHPASS_SIGMA

    smooth_pilot, smooth_codes = matched(key, cfg)
    filters = np.concatenate([smooth_pilot.ravel()[None], smooth_codes]).astype(np.float32)
    pilot, codes = patterns(key, cfg)
    rows = np.concatenate([pilot[None], codes]) / cfg.grid
    tiles = np.stack([smooth_tile(shaped_cells(cells, cfg), cfg.tile) for cells in rows])
    seen_all = (tiles - gaussian_filter(tiles, (0, HIGHPASS_SIGMA, HIGHPASS_SIGMA), mode="wrap")).reshape(len(rows), -1)
    raw = filters.astype(np.float64) @ seen_all.T.astype(np.float64)
    response = raw / np.mean(np.diag(raw))
    gram = response.T @ response
    # least squares with a light ridge (the map is well conditioned: condition number about 2.6)
    inverse = np.linalg.solve(gram + 0.01 * np.mean(np.diag(gram)) * np.eye(len(gram)), response.T)

    def low(rows: np.ndarray) -> np.ndarray:
        halves = rows.reshape(-1, cfg.tile // 2, 2, cfg.tile // 2, 2).mean(axis=(2, 4))
        return np.ascontiguousarray(halves.reshape(len(rows), -1), dtype=np.float32)

    return ReadingModel(filters, seen_all, response, inverse, raw, low(filters), low(seen_all))

