"""Synchronisation: find the scale, rotation, translation and orientation the picture has now.

The tile repeats, so the autocorrelation of the whitened image peaks on the tile lattice (every
tile's whole mark energy points at scale and rotation, whatever the key: Kutter's self-reference
idea); candidates are refined on the keyed pilot, the folded tile's cyclic correlation with the
pilot gives the translation, and the eight quarter turns and mirror images are tried on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np

from synthgov.modalities.image.watermark.config import ImageWatermarkConfig
from synthgov.modalities.image.watermark.frontend import block_mean, fold
from synthgov.modalities.image.watermark.patterns import matched


def z_map(xc: np.ndarray) -> np.ndarray:
    z: np.ndarray = (xc - xc.mean()) / (xc.std() + 1e-9)
    return z


def combined_pilot_map(maps: list[np.ndarray]) -> np.ndarray:
    """The planes' pilot z-maps combined (equal weights, still z-scores under noise)."""
    combined: np.ndarray = sum(maps) / np.sqrt(len(maps))
    return combined


def peaks(maps: list[np.ndarray], count: int) -> list[tuple[float, int, int, list[float]]]:
    """The ``count`` best cyclic shifts in the planes' pilot z-maps, as (combined z-score, dy, dx,
    each plane's own z-score there)."""
    work = combined_pilot_map(maps)
    out = []
    for _ in range(count):
        peak = int(np.argmax(work))
        sy, sx = divmod(peak, work.shape[1])
        out.append((float(work[sy, sx]), sy, sx, [float(m[sy, sx]) for m in maps]))
        rows = [(sy + d) % work.shape[0] for d in range(-3, 4)]
        cols = [(sx + d) % work.shape[1] for d in range(-3, 4)]
        work[np.ix_(rows, cols)] = -np.inf
    return out


def orient(folded: np.ndarray, turn: int) -> np.ndarray:
    """The folded tile as the embedder laid it if the picture was turned by ``turn`` quarter turns
    (0-3) or, from 4 on, also mirrored: the lattice is square, so the geometric search finds rotations
    only modulo 90 degrees, and these eight are what is left to try."""
    oriented = np.rot90(folded, turn % 4)
    return oriented[:, ::-1] if turn >= 4 else oriented


def oriented_maps(folded: list[np.ndarray], key: bytes, cfg: ImageWatermarkConfig, block: int = 1,
                  turns: Iterable[int] | None = None) -> Iterator[tuple[int, list[np.ndarray]]]:
    """(orientation, each plane's pilot z-map) for the eight orientations (or ``turns``), from one
    spectrum per plane; ``block`` > 1 for tiles folded at 1/block resolution."""
    spectra = [np.fft.rfft2(f - f.mean()) for f in folded]
    pilots = oriented_pilots(key, cfg, block)
    for turn in range(cfg.orientations) if turns is None else turns:
        yield turn, [z_map(np.fft.irfft2(spectrum * pilots[turn], s=folded[0].shape)) for spectrum in spectra]


def oriented_shifts(folded: list[np.ndarray], key: bytes,
                    cfg: ImageWatermarkConfig) -> list[tuple[float, int, int, list[float], int]]:
    """The cfg.shifts best (z-score, dy, dx, each plane's z, orientation) over all eight orientations: the
    decodings per geometry (and so the false-positive bound) stay the same. The shift applies to the
    folded tile before it is oriented."""
    found = [(*shift, turn) for turn, maps in oriented_maps(folded, key, cfg)
             for shift in peaks(maps, cfg.shifts)]
    return sorted(found, key=lambda c: c[0], reverse=True)[:cfg.shifts]


@lru_cache(maxsize=16)
def oriented_pilots(key: bytes, cfg: ImageWatermarkConfig, block: int = 1) -> tuple[np.ndarray, ...]:
    """Conjugate spectra of the pilot laid back by each orientation (what a turned tile correlates with)."""
    pilot = block_mean(matched(key, cfg)[0], block) if block > 1 else matched(key, cfg)[0]
    out = []
    for turn in range(cfg.orientations):
        back = pilot[:, ::-1] if turn >= 4 else pilot  # undo the mirror, then the quarter turns
        out.append(np.conj(np.fft.rfft2(np.rot90(back, -(turn % 4)))))
    return tuple(out)


def pilot_z(halves: list[np.ndarray], scale: float, angle: float, key: bytes, cfg: ImageWatermarkConfig,
            turns: Iterable[int] | None = None) -> tuple[float, int]:
    """Pilot z-score at half resolution and the orientation that gives it (of ``turns``): a cheap
    objective for ranking and refining a geometry (the lattice leaves a quarter turn or a mirror image
    open)."""
    folded = [fold(h, scale, angle, cfg.tile // 2) for h in halves]
    return max((float(combined_pilot_map(maps).max()), turn)
               for turn, maps in oriented_maps(folded, key, cfg, 2, turns))


def lattice(planes: list[np.ndarray], cfg: ImageWatermarkConfig) -> list[tuple[float, float, float]]:
    """Candidate (score, scale, angle) from the autocorrelation of the whitened image.

    The tile repeats, so the autocorrelation peaks on the tile lattice: every tile's whole mark
    energy (not only the pilot's share) points at the scale and rotation, whatever the key (Kutter's
    self-reference idea). The lattice is square, so a rotation is found modulo 90 degrees.
    """
    from scipy.ndimage import maximum_filter

    count = cfg.lattice_candidates

    h, wd = planes[0].shape
    reach = min(int(np.ceil(cfg.tile * cfg.scale_range[1])) + 2, h - 1, wd - 1)  # lags the padded ACF holds
    r_lo, r_hi = cfg.tile * cfg.scale_range[0], min(cfg.tile * cfg.scale_range[1], reach - 2)
    yy, xx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    radius = np.hypot(yy, xx)
    annulus = (radius >= r_lo) & (radius <= r_hi)
    z = np.zeros(yy.shape)
    for w in planes:
        spectrum = np.fft.rfft2(w - w.mean(), s=(2 * h, 2 * wd))
        ac = np.fft.fftshift(np.fft.irfft2(spectrum.real**2 + spectrum.imag**2, s=(2 * h, 2 * wd)))
        ac = ac[h - reach : h + reach + 1, wd - reach : wd + reach + 1]  # lags up to the largest tile
        values = ac[annulus]
        z += (ac - values.mean()) / (values.std() + 1e-12)
    z /= np.sqrt(len(planes))
    is_peak = annulus & (z == maximum_filter(z, size=5)) & ((yy > 0) | ((yy == 0) & (xx > 0)))  # v ~ -v
    order = np.argsort(z[is_peak])[::-1][: 4 * count]
    out: list[tuple[float, float, float]] = []
    for py, px in zip(yy[is_peak][order], xx[is_peak][order], strict=True):
        cy, cx = py + reach, px + reach
        dy, dx = float(py), float(px)
        if 0 < cy < ac.shape[0] - 1:  # parabolic sub-lag refinement
            a, b, c = z[cy - 1, cx], z[cy, cx], z[cy + 1, cx]
            dy += 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        if 0 < cx < ac.shape[1] - 1:
            a, b, c = z[cy, cx - 1], z[cy, cx], z[cy, cx + 1]
            dx += 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        angle = (np.arctan2(dy, dx) + np.pi / 4) % (np.pi / 2) - np.pi / 4
        if abs(angle) > np.radians(cfg.angle_range):
            continue
        # the lattice's other axis must peak too
        oy, ox = int(round(px)) + reach, int(round(-py)) + reach
        partner = float(z[max(0, oy - 1) : oy + 2, max(0, ox - 1) : ox + 2].max()) if 0 <= oy < z.shape[0] \
            and 0 <= ox < z.shape[1] else 0.0
        geometry = (float(np.hypot(dy, dx)) / cfg.tile, float(angle))
        if any(abs(geometry[0] - s) < 0.01 and abs(geometry[1] - a) < 0.01 for _, s, a in out):
            continue
        out.append((float(z[cy, cx]) + partner, *geometry))
    out.sort(reverse=True)
    out = out[:count]
    axis = axis_lattice(z, reach, r_lo, r_hi, cfg.tile)
    if axis is not None and not any(abs(axis[1] - s) < 0.01 and abs(a) < 0.01 for _, s, a in out):
        out = out[: count - 1] + [axis]
    return out


def axis_lattice(z: np.ndarray, reach: int, r_lo: float, r_hi: float, tile: int) -> tuple[float, float, float] | None:
    """The best unrotated lattice (the common case: crops and resizes keep the angle): for each tile
    period P the autocorrelation z at (P, 0), (0, P) and, where they fit, the diagonals (P, P) and
    (P, -P). A one-dimensional search over P faces far fewer chance peaks than the whole annulus, so
    it finds the lattice of a small image whose few tiles give only weak peaks."""
    periods = np.arange(int(np.ceil(r_lo)), int(r_hi) + 1)
    if len(periods) < 3:
        return None
    c = reach
    score = z[c, c + periods] + z[c + periods, c]
    fits = periods <= reach
    score[fits] += 0.5 * (z[c + periods[fits], c + periods[fits]] + z[c + periods[fits], c - periods[fits]])
    k = int(np.argmax(score))
    period = float(periods[k])
    if 0 < k < len(score) - 1:  # parabolic sub-lag refinement
        a, b, d = score[k - 1], score[k], score[k + 1]
        period += 0.5 * (a - d) / (a - 2 * b + d) if a - 2 * b + d < 0 else 0.0
    return float(z[c, c + periods[k]] + z[c + periods[k], c]), period / tile, 0.0


def scale_scan(halves: list[np.ndarray], key: bytes, cfg: ImageWatermarkConfig) -> tuple[float, float, float]:
    """The best unrotated scale by the pilot itself, in steps of cfg.scan_step over cfg.scale_range: a square
    image cropped to 70 % in a layout of two tiles a side shows only 1.7 tiles a side, too few for the
    autocorrelation, while the pilot still stands out at the right scale."""
    steps = np.arange(np.log(cfg.scale_range[0]), np.log(cfg.scale_range[1]), np.log1p(cfg.scan_step))
    return max((pilot_z(halves, float(np.exp(step)), 0.0, key, cfg)[0], float(np.exp(step)), 0.0) for step in steps)


def rotation_scan(halves: list[np.ndarray], key: bytes, cfg: ImageWatermarkConfig,
                  scales: Iterable[float]) -> tuple[float, float, float]:
    """The best small rotation by the pilot itself, in whole degrees up to ``cfg.scan_angle`` either
    way, at each of ``scales``: a picture of one tile a side has no lattice to read a rotation off,
    and :func:`refine` climbs only about a degree from where it starts (measured: chelsea at 451x300
    turned by 3 degrees reads a pilot z of 7.9 at the right angle, 4.3 unrotated)."""
    angles = np.radians(np.arange(-cfg.scan_angle, cfg.scan_angle + 0.5, 1.0))
    return max((pilot_z(halves, scale, float(angle), key, cfg)[0], scale, float(angle))
               for scale in dict.fromkeys(scales) for angle in angles)


def refine(halves: list[np.ndarray], scale: float, angle: float, key: bytes,
           cfg: ImageWatermarkConfig) -> tuple[float, float, float]:
    """Pilot hill-climb from an autocorrelation estimate (good to about 0.5 degrees and 2 %): angle,
    then scale, in steps of 0.25 degrees and 0.5 %, then of 0.1 degrees and 0.15 %; at each step
    size the moves repeat while they improve (at most cfg.climbs rounds: the coarse ones reach 2 %). The
    orientation is settled at the start."""
    z, turn = pilot_z(halves, scale, angle, key, cfg)
    best = (z, scale, angle)
    steps = ((np.radians(0.25), 0.005), (np.radians(0.1), 0.0015))
    for (step_a, step_s), climbs in zip(steps, cfg.climbs, strict=True):
        for _ in range(climbs):
            start = best
            for da in (-2, -1, 1, 2):
                z = pilot_z(halves, start[1], start[2] + step_a * da, key, cfg, (turn,))[0]
                if z > best[0]:
                    best = (z, start[1], start[2] + step_a * da)
            _, scale, angle = best
            for ds in (-2, -1, 1, 2):
                z = pilot_z(halves, scale * (1 + step_s * ds), angle, key, cfg, (turn,))[0]
                if z > best[0]:
                    best = (z, scale * (1 + step_s * ds), angle)
            if best == start:
                break
    return best
