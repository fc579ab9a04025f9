"""Detection: normalise the picture to the two working resolutions, synchronise, fold all tiles
into one, read soft symbols per plane, combine the planes (maximal-ratio), list-decode, check the MAC.

Without the key neither the patterns nor the MAC can be produced, so nobody without it reads or
forges the mark. False positives: at most ``cfg.max_decodes`` decodings of ``cfg.list_size``
candidate words are checked against a 32-bit MAC (``cfg.budget``: 768 x 2^-32 = 1.8e-7 per image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from synthgov.modalities.image.watermark.config import CODEC, DEFAULT, ImageWatermarkConfig
from synthgov.modalities.image.watermark.frontend import block_mean, fold, read_planes
from synthgov.modalities.image.watermark.patterns import reading_model
from synthgov.modalities.image.watermark.sync import (
    lattice,
    orient,
    oriented_shifts,
    pilot_z,
    refine,
    rotation_scan,
    scale_scan,
)
from synthgov.watermarking.payload import DecodeStats
from synthgov.watermarking.scheme import TooSmall


@dataclass(frozen=True)
class Detection:
    payload: int
    confidence: float  # pilot correlation z-score; > 6 is far from chance
    scale: float
    rotation_deg: float  # counter-clockwise, as Pillow's rotate(); with mirrored, applied after the mirror
    bit_margin: float  # mean |soft bit| after decoding, a quality figure
    mirrored: bool = False  # the picture was flipped left to right (or, with 180 degrees, top to bottom)


@dataclass(frozen=True)
class Geometry:
    scale: float
    angle: float  # radians, as the detector resamples


def combine(softs: list[np.ndarray], plane_z: list[float]) -> np.ndarray:
    """Maximal-ratio combining of the planes' code readings. Each plane carries the pilot and the
    codes in the same proportion, so its pilot z-score at the chosen shift estimates its
    signal-to-noise ratio: weight each plane's readings (in units of their spread) by it."""
    weights = [max(z, 0.0) for z in plane_z]
    if not any(weights):
        weights = [1.0] * len(softs)
    return np.asarray(sum(w * s / (float(np.std(s)) + 1e-12) for w, s in zip(weights, softs, strict=True)))


class _Reader:
    """One detection: the layouts' planes, made when first needed, and the decodings tried."""

    def __init__(self, image: Image.Image, key: bytes, cfg: ImageWatermarkConfig, z_min: float, list_z: float,
                 stats: DecodeStats | None) -> None:
        self.image, self.key, self.cfg = image, key, cfg
        self.z_min, self.list_z, self.stats = z_min, list_z, stats
        self._layouts: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def planes(self, work: int) -> list[np.ndarray]:
        return self._read(work)[0]

    def _read(self, work: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if work not in self._layouts:
            self._layouts[work] = read_planes(self.image, work, self.cfg)
        return self._layouts[work]

    def attempt(self, work: int, geometry: Geometry) -> Detection | None:
        cfg, key = self.cfg, self.key
        work_planes, weights = self._read(work)
        folded = [fold(w, geometry.scale, geometry.angle, cfg.tile) for w in work_planes]
        folded_weights = [fold(w, geometry.scale, geometry.angle, cfg.tile) for w in weights]
        model = reading_model(key, cfg)
        for z, sy, sx, plane_z, turn in oriented_shifts(folded, key, cfg):
            if z < self.z_min:
                break
            tiles = [orient(np.roll(f - f.mean(), (-sy, -sx), axis=(0, 1)), turn) for f in folded]
            if z >= self.list_z:  # equalised: worth its few milliseconds where a mark is likely
                readings = [model.equalise(tile, orient(np.roll(fw, (-sy, -sx), axis=(0, 1)), turn))[1:]
                            for tile, fw in zip(tiles, folded_weights, strict=True)]
            else:
                readings = [model.filters[1:] @ tile.ravel() for tile in tiles]
            soft = combine(readings, plane_z)
            payload = CODEC.decode(soft.astype(np.float64), key, list_size=cfg.list_size if z >= self.list_z else 1,
                                   stats=self.stats)
            if payload is not None:
                # the detector samples the picture turned back: the picture was turned the other way
                rotation = (-float(np.degrees(geometry.angle)) - 90.0 * (turn % 4)) % 360.0
                rotation = rotation - 360.0 if rotation > 180.0 else rotation
                norm = soft / (np.std(soft) + 1e-9)
                return Detection(payload, round(z, 2), round(geometry.scale, 4), round(rotation, 3),
                                 round(float(np.mean(np.abs(norm))), 3), turn >= 4)
        return None


def detect(image: Image.Image, key: bytes, cfg: ImageWatermarkConfig = DEFAULT, *, z_min: float | None = None,
           list_z: float | None = None, stats: DecodeStats | None = None) -> Detection | None:
    """The payload if this key's mark is present and its MAC checks; None otherwise.

    Every tile layout is tried (``cfg.layouts``: the shortest side normalised to each layout's
    working resolution): the canonical geometry first (re-encoding, resizing and colour changes keep
    it), then the lattice candidates, each refined on the pilot only when its turn comes. A shift
    whose pilot z-score is under ``list_z`` decodes only the best word (chance peaks rarely reach it;
    this saves time on unmarked images); the benchmark sets it, and ``z_min``, out of reach to count
    the worst case.
    """
    width, height = image.size
    if min(width, height) < cfg.min_detect_side:
        raise TooSmall(f"image {width}x{height} is too small to read a watermark "
                       f"(shortest side must be at least {cfg.min_detect_side} px)")
    reader = _Reader(image, key, cfg, cfg.z_min if z_min is None else z_min,
                     cfg.list_z if list_z is None else list_z, stats)
    for layout in cfg.layouts:
        found = reader.attempt(layout.work, Geometry(1.0, 0.0))
        if found is not None:
            return found
    for layout in cfg.layouts:
        work_planes = reader.planes(layout.work)
        halves = [block_mean(w, 2) for w in work_planes]
        # most likely first (pilot z where the autocorrelation points), each refined only when its turn comes
        ranked = sorted(((pilot_z(halves, s, a, key, cfg)[0], s, a) for _, s, a in lattice(work_planes, cfg)),
                        reverse=True)
        if cfg.scans(layout) and min(width, height) <= layout.max_side:
            # the last resort for what may be a cropped or turned small image, whose few tiles the
            # autocorrelation may miss: a scan of the unrotated scales, then of small rotations at
            # the original scale and at the scan's best
            scanned = scale_scan(halves, key, cfg)
            ranked = ranked[: cfg.geometries - 1] + [scanned, rotation_scan(halves, key, cfg, (1.0, scanned[1]))]
        for _, scale, angle in ranked[: cfg.geometries + 1]:
            _, scale, angle = refine(halves, scale, angle, key, cfg)
            found = reader.attempt(layout.work, Geometry(scale, angle))
            if found is not None:
                return found
    return None
