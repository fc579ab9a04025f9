"""The detector's front end, which the embedder also runs to predict what the detector will see.

The mark lives in two planes the detector reads separately: luminance (an equal offset on R, G
and B) and a green-red chroma plane (minus Cr; its offset direction leaves luminance unchanged).
Grey and textured pictures have little host "noise" in chroma; JPEG keeps luminance better. Both
planes carry the same readings, and the two offset directions point partly against each other in
RGB, so together they cost less squared error than apart (the negative cross term).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from synthgov.modalities.image.watermark.config import ImageWatermarkConfig

HIGHPASS_SIGMA = 2.0  # the detector's high-pass: the image minus its Gaussian blur of this sigma (pixels)
CHROMA_DIRECTION = np.array([-1.402, 0.714, 0.0], dtype=np.float32)  # RGB change per unit of the plane
CHROMA_COST = float(np.mean(CHROMA_DIRECTION**2))  # MSE per unit squared chroma offset (luminance: 1)
CHROMA_CROSS = float(np.mean(CHROMA_DIRECTION))  # MSE cross term per unit luminance x chroma offset


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def chroma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 1] * 0.4187 + rgb[..., 2] * 0.0813 - rgb[..., 0] * 0.5


def work_rgb(image: Image.Image, work: int) -> np.ndarray:
    width, height = image.size
    scale = work / min(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(image.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.float32)


def whiten(y: np.ndarray) -> np.ndarray:
    """High-pass at the cell scale (the image minus its local mean), divided by the local residual
    level (texture is host noise: weighting pixels by its inverse is the matched detector for a mark
    in noise of varying strength), with outliers clipped. The embedder runs the same function, so it
    can predict what the detector will see."""
    return whiten_parts(y)[0]


def whiten_parts(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whitened plane, the divisor it used)."""
    from synthgov.watermarking.filters import gaussian

    hp = y - gaussian(y, HIGHPASS_SIGMA)
    divisor = np.sqrt(gaussian(hp * hp, 4.0)) + 0.3
    return np.clip(hp / divisor, -3.0, 3.0), divisor


def fold(w: np.ndarray, scale: float, angle: float, period: int) -> np.ndarray:
    """Resample the whitened image onto the canonical grid and sum all tiles into one."""
    h, wd = w.shape
    if abs(scale - 1.0) < 1e-6 and abs(angle) < 1e-9:
        samples = w
    else:
        # output (row u, col v) samples input (h/2, wd/2) + scale * R(angle) (u - out_h/2, v - out_w/2),
        # bilinear, zero outside; Pillow's affine transform does it several times faster than scipy
        out_h, out_w = max(1, int(h / scale)), max(1, int(wd / scale))
        c, s = np.cos(angle), np.sin(angle)
        a, b, d, e = scale * c, -scale * s, scale * s, scale * c
        x0 = wd / 2 - a * out_w / 2 - b * out_h / 2 - 0.5 * (a + b) + 0.5  # Pillow samples pixel centres
        y0 = h / 2 - d * out_w / 2 - e * out_h / 2 - 0.5 * (d + e) + 0.5
        samples = np.asarray(Image.fromarray(np.ascontiguousarray(w, dtype=np.float32), "F").transform(
            (out_w, out_h), Image.Transform.AFFINE, (a, b, x0, d, e, y0), resample=Image.Resampling.BILINEAR,
            fillcolor=0.0))
    rows, cols = samples.shape
    pr, pc = -(-rows // period) * period, -(-cols // period) * period
    padded = np.zeros((pr, pc), dtype=np.float32)
    padded[:rows, :cols] = samples
    folded: np.ndarray = padded.reshape(pr // period, period, pc // period, period).sum(axis=(0, 2))
    return folded


def block_mean(w: np.ndarray, k: int) -> np.ndarray:
    h, wd = (w.shape[0] // k) * k, (w.shape[1] // k) * k
    means: np.ndarray = w[:h, :wd].reshape(h // k, k, wd // k, k).mean(axis=(1, 3))
    return means


def fill_band(y: np.ndarray, band: int) -> np.ndarray:
    """Flat fill (e.g. the corners a rotation leaves) and a band around it: its straight edges would
    otherwise dominate the autocorrelation and the correlations."""
    from synthgov.watermarking.filters import box, dilate

    mean = box(y, 5)
    flat: np.ndarray = (box(y * y, 5) - mean * mean) < 0.02  # constant fill, not merely smooth areas
    if not flat.any():
        return flat
    banded: np.ndarray = dilate(flat, band)
    return banded


def planes(image: Image.Image, work: int, cfg: ImageWatermarkConfig) -> list[np.ndarray]:
    """The detector's whitened planes at a working resolution (luminance; chroma unless grey)."""
    return read_planes(image, work, cfg)[0]


def read_planes(image: Image.Image, work: int, cfg: ImageWatermarkConfig) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The whitened planes and, for each, the weight the mark has in it at every pixel: the
    perceptual model's amplitude (the model run again on what is read, which is close to what the
    embedder ran it on) over the whitening divisor, zero in the fill band. Folded like the plane, the
    weights say how strongly each cell of the tile was seen (``ReadingModel.equalise``)."""
    from synthgov.modalities.image.watermark import masking

    rgb = work_rgb(image, work)
    y = luma(rgb)
    band = fill_band(y, cfg.band)
    c = chroma(rgb)
    has_chroma = float(np.ptp(c)) > 1.0  # a grey picture has no chroma plane to read
    h, w = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    rgb_mask = 0.25 * (rgb[0:h:2, 0:w:2] + rgb[1:h:2, 0:w:2] + rgb[0:h:2, 1:w:2] + rgb[1:h:2, 1:w:2])
    amps = masking.amplitudes(rgb_mask, cfg, 1.0 if has_chroma else 0.0)
    size = (rgb.shape[1], rgb.shape[0])
    out, weights = [], []
    for plane, amp in ((y, amps.luma), (c, amps.chroma))[: 2 if has_chroma else 1]:
        whitened, divisor = whiten_parts(plane)
        level = np.asarray(Image.fromarray(np.ascontiguousarray(amp, dtype=np.float32), "F").resize(
            size, Image.Resampling.BILINEAR), dtype=np.float32)
        weight = level / divisor
        whitened[band] = 0.0
        weight[band] = 0.0
        out.append(whitened)
        weights.append(weight.astype(np.float32))
    return out, weights
