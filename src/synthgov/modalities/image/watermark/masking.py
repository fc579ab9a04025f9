"""The perceptual model: how strong the mark may be at each place of the picture.

A mark spread with equal strength everywhere shows on flat sky and UI backgrounds long before it
costs any PSNR (issue 9). This model gives each plane (luminance, green-red chroma) an amplitude
map in code values (the mark's RMS there), built on what the SSIM family of metrics and contrast
masking (Legge and Foley) agree on: what a pattern costs is its variance against the local
variance *at its own scale* plus a constant. So:

* contrast masking at the mark's scale: the plane is lightly smoothed (detail finer than a cell
  cannot hide a cell-sized pattern), and its local RMS contrast c gives an amplitude
  ``flat * sqrt(1 + (c / knee)²)``, which keeps the per-pixel cost about equal everywhere;
* no halo: the contrast map is eroded (a minimum over about two cells) before it is smoothed, so a
  flat area beside texture (sky at a roof line, a button beside text) stays quiet;
* no luminance adaptation: in sRGB code values the cost hardly depends on the background level
  (measured; Chou and Li's raised thresholds in the darks made night skies visibly blotchy).
  Near black and white the mark fades (it would only be clipped); at saturated red or green the
  chroma mark fades and luminance takes it at full amplitude;
* chroma first: per unit of visibility chroma carries several times luminance's SNR after JPEG,
  so luminance runs at 1 / ``jnd.grey_luma`` of its map wherever chroma can carry the mark;
* the field keeps only what the detector reads (``jnd.highpass``, applied to the tile): slow,
  large blotches cost sight and carry nothing.

Everything is computed at half the detector's working resolution (a cell is two pixels there), so
the model scales with the picture and costs a few milliseconds; ``strength`` multiplies the maps (the
operator's one quality-versus-robustness setting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgov.modalities.image.watermark.config import ImageWatermarkConfig
from synthgov.modalities.image.watermark.frontend import chroma, luma

MASK_CELL = 2  # pixels per cell at the mask's resolution


@dataclass(frozen=True)
class Amplitudes:
    """Per plane, the mark's RMS amplitude in code values at each working-resolution pixel."""

    luma: np.ndarray
    chroma: np.ndarray


def _contrast(plane: np.ndarray, mean: np.ndarray, erode: int) -> np.ndarray:
    """Local RMS contrast (box window of 2.5 cells), eroded so flat areas beside texture stay
    flat, then smoothed so the map has no edges of its own."""
    from synthgov.watermarking.filters import box, minimum

    local = np.sqrt(np.maximum(box(plane * plane, 5) - mean * mean, 0.0))
    if erode > 1:
        local = minimum(local, erode)
    out: np.ndarray = box(local, 3)
    return out


def _ends(values: np.ndarray, low: float, high: float, ramp: float) -> np.ndarray:
    """1 in the middle of the range, falling to 0 at ``low`` and ``high`` over ``ramp`` codes."""
    ramped: np.ndarray = np.clip(np.minimum(values - low, high - values) / ramp, 0.0, 1.0)
    return ramped


def amplitudes(rgb_mask: np.ndarray, cfg: ImageWatermarkConfig, chroma_weight: float) -> Amplitudes:
    """The amplitude maps for an RGB image (float32 0-255) at the mask's resolution, where a cell
    is ``MASK_CELL`` pixels (half the detector's working resolution)."""
    from synthgov.watermarking.filters import box

    jnd = cfg.jnd
    erode = max(1, round(jnd.erode_cells * MASK_CELL))
    y = luma(rgb_mask)
    background = box(y, 5)
    luma_amp = jnd.flat * np.sqrt(1.0 + (_contrast(y, background, erode) / jnd.knee) ** 2)
    luma_amp = np.minimum(luma_amp, jnd.ceiling) * _ends(background, 2.0, 253.0, 12.0)
    if chroma_weight > 0 and jnd.chroma_flat > 0:
        red, green = box(rgb_mask[..., 0], 3), box(rgb_mask[..., 1], 3)
        room = np.minimum(_ends(red, 4.0, 251.0, 12.0), _ends(green, 4.0, 251.0, 12.0)) * chroma_weight
        c = chroma(rgb_mask)
        chroma_amp = jnd.chroma_flat * np.sqrt(1.0 + (_contrast(c, box(c, 5), erode) / jnd.chroma_knee) ** 2)
        chroma_amp = np.minimum(chroma_amp, jnd.chroma_ceiling) * room
    else:
        room = np.zeros_like(luma_amp)
        chroma_amp = np.zeros_like(luma_amp)
    # measured (SSIMULACRA2 against the detector's SNR after JPEG): per unit of visibility chroma carries
    # several times the luminance's SNR, so luminance is light wherever chroma can carry the mark
    luma_amp *= 1.0 + (jnd.grey_luma - 1.0) * (1.0 - room)
    s = np.float32(cfg.strength)
    return Amplitudes((luma_amp * s).astype(np.float32), (chroma_amp * s).astype(np.float32))


def chroma_weight(short: int, tiles: int, cfg: ImageWatermarkConfig) -> float:
    """How much of its map the chroma plane may use at this shortest side and ``tiles`` tiles across
    it: chroma survives 4:2:0 JPEG only when the cells span several pixels."""
    cell = short / (tiles * cfg.grid)
    return 1.0 if cell >= 4 else max(0.0, (cell - 1.0) / 3.0)
