"""The visible (explicit) image label, GB 45438 5.2.

Text on an edge or corner, its rendered glyph ink at least 5 % of the image's shortest side (we aim
for 6 %), white with a dark outline on a translucent dark box so it reads on any background
(shared/docs/research/media-tooling.md §5: the boxed style OCRs 100 %). The font is a subset of
Noto Sans CJK SC Bold shipped with the package (SIL OFL 1.1, fonts/OFL.txt), so a fresh machine
with no system fonts renders it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from synthgov.errors import InvalidInput

FONT_PATH = Path(__file__).with_name("fonts") / "NotoSansSC-Bold-subset.otf"
MIN_RATIO = 0.05
MIN_INK_PX = 10  # below this the label is not legible whatever the ratio says
BOX_ALPHA = 165


@lru_cache(maxsize=1)
def font_coverage() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_PATH), lazy=True) as font:
        return frozenset(font["cmap"].getBestCmap())


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size, layout_engine=ImageFont.Layout.BASIC)


INK_LEVEL = 128  # a pixel counts as glyph ink from half coverage up


def ink_height(text: str, size: int) -> int:
    """Rows of the rendered glyph mask that hold ink (coverage >= 50 %), not the font's metrics."""
    import numpy as np

    mask = _font(size).getmask(text)
    if mask.size[0] == 0 or mask.size[1] == 0:
        return 0
    rows = np.asarray(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0]).max(axis=1)
    inked = np.nonzero(rows >= INK_LEVEL)[0]
    return int(inked[-1] - inked[0] + 1) if len(inked) else 0


def fit_font(text: str, target: int) -> int:
    """Smallest font size whose rendered ink height reaches ``target`` pixels."""
    size = max(4, round(target * 1.2))
    for _ in range(4):
        height = ink_height(text, size)
        if height == 0:
            raise InvalidInput("visible label text renders no ink")
        size = max(4, round(size * target / height))
    while ink_height(text, size) < target:
        size += 1
    while size > 4 and ink_height(text, size - 1) >= target:
        size -= 1
    return size


def check_text(text: str) -> None:
    missing = sorted({ch for ch in text if ord(ch) not in font_coverage() and not ch.isspace()})
    if missing:
        raise InvalidInput(f"the bundled label font has no glyph for {''.join(missing)!r}")


def layout(size: tuple[int, int], text: str, position: str, ratio: float) -> dict:
    """Where the label goes and how big: box, text origin, font size, target ink height."""
    width, height = size
    short = min(width, height)
    ratio = max(ratio, MIN_RATIO)
    target = math.ceil(ratio * short)
    if target < MIN_INK_PX:
        raise InvalidInput(
            f"image {width}x{height} is too small for a legible visible label "
            f"(needs a shortest side of at least {math.ceil(MIN_INK_PX / ratio)} px); label it with --no-visible"
        )
    check_text(text)
    font_size = fit_font(text, target)
    left, top, right, bottom = _font(font_size).getbbox(text)
    pad_x, pad_y = max(2, round(0.35 * target)), max(2, round(0.25 * target))
    margin = max(2, round(0.02 * short))
    box_w, box_h = (right - left) + 2 * pad_x, (bottom - top) + 2 * pad_y
    if box_w + 2 * margin > width or box_h + 2 * margin > height:
        raise InvalidInput(f"visible label {text!r} does not fit in a {width}x{height} image at the required size")
    x0 = margin if position.endswith("left") else width - margin - box_w
    y0 = margin if position.startswith("top") else height - margin - box_h
    return {
        "position": position,
        "box": [x0, y0, x0 + box_w, y0 + box_h],
        "text_origin": [x0 + pad_x - left, y0 + pad_y - top],
        "font_size": font_size,
        "target_ink_px": target,
        "ink_px": ink_height(text, font_size),
        "short_side": short,
        "ink_ratio": round(ink_height(text, font_size) / short, 4),
    }


def draw_label(frame: Image.Image, text: str, geometry: dict) -> Image.Image:
    """Return ``frame`` (RGBA) with the label composited in."""
    overlay = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    x0, y0, x1, y1 = geometry["box"]
    draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=max(1, (y1 - y0) // 6), fill=(0, 0, 0, BOX_ALPHA))
    stroke = max(1, geometry["target_ink_px"] // 24)
    draw.text(
        tuple(geometry["text_origin"]),
        text,
        font=_font(geometry["font_size"]),
        fill=(255, 255, 255, 255),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 255),
    )
    return Image.alpha_composite(frame.convert("RGBA"), overlay)
