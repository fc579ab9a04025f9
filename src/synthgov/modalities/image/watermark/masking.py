"""Where the mark may go and how much of it each plane gets.

Today: every pixel that is not clipped carries the mark with equal strength (clipped pixels cannot:
luminance at black or white, chroma at an end of the red or green range), and the chroma plane's
share follows the cell size (chroma survives 4:2:0 JPEG only when cells span several pixels). This
module is where a perceptual model (texture and luminance masking) shapes the residual.
"""

from __future__ import annotations

import numpy as np

from synthgov.modalities.image.watermark.config import ImageWatermarkConfig
from synthgov.modalities.image.watermark.frontend import luma


def carriers(rgb_strip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(luminance, chroma) masks of the pixels that can carry each plane's mark."""
    rgb = rgb_strip.astype(np.float32)
    y = luma(rgb)
    red, green = rgb[..., 0], rgb[..., 1]
    return (y >= 3) & (y <= 252), (red >= 5) & (red <= 250) & (green >= 5) & (green <= 250)


def chroma_share(short: int, cfg: ImageWatermarkConfig) -> float:
    """The chroma plane's share of the budget for an image of this shortest side."""
    cell = short / (2 * cfg.grid) if short < cfg.small_side else short / (4 * cfg.grid)
    return cfg.chroma_share if cell >= 4 else cfg.chroma_share * max(0.0, (cell - 1.0) / 3.0)
