"""GB 45438 5.2: the visible label, measured on the rendered output."""

import io

import numpy as np
import pytest
from PIL import Image

from synthgov.errors import InvalidInput
from synthgov.modalities.base import ExplicitLabelSpec
from synthgov.modalities.image import ImageHandler, visible
from tests.conftest import encode, load_photo

handler = ImageHandler()
SPEC = ExplicitLabelSpec("AI生成")


def measured_ink(before: bytes, after: bytes) -> tuple[int, tuple[int, int, int, int]]:
    """Height of the new white glyph ink, and the bounding box of everything the label changed."""
    a = np.asarray(Image.open(io.BytesIO(before)).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(after)).convert("RGB"), dtype=np.int16)
    changed = np.abs(a - b).max(axis=2) > 40
    ink = changed & (b.min(axis=2) >= 128)  # white glyph ink from half coverage up
    rows, cols = np.where(ink)
    crows, ccols = np.where(changed)
    return rows.max() - rows.min() + 1, (ccols.min(), crows.min(), ccols.max(), crows.max())


@pytest.mark.parametrize(
    ("size", "fmt"),
    [((512, 512), "PNG"), ((1920, 1080), "JPEG"), ((300, 900), "PNG"), ((1080, 1920), "WEBP"), ((240, 180), "PNG")],
)
def test_ink_height_at_least_5_percent_of_short_side(size, fmt):
    photo = load_photo("coffee.png").resize(size)
    before = encode(photo, fmt, **({"quality": 95} if fmt != "PNG" else {}))
    result = handler.apply_explicit(before, SPEC)
    height, (x0, y0, x1, y1) = measured_ink(before, result.data)
    short = min(size)
    assert height >= 0.05 * short, (height, short)
    assert height <= 0.08 * short  # aims at 6 %, not a banner
    # at an edge or corner: bottom-right by default, within a few percent of both edges
    assert size[0] - x1 <= 0.05 * short and size[1] - y1 <= 0.05 * short


@pytest.mark.parametrize("position", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_positions(position):
    before = encode(load_photo("chelsea.png"), "PNG")
    result = handler.apply_explicit(before, ExplicitLabelSpec("人工智能生成", position, 0.06))
    _, (x0, y0, x1, y1) = measured_ink(before, result.data)
    w, h = 451, 300
    assert (x0 < w / 2) == position.endswith("left")
    assert (y0 < h / 2) == position.startswith("top")


@pytest.mark.parametrize("background", [(255, 255, 255), (0, 0, 0), (255, 255, 0), "noise"])
def test_legible_on_any_background(background):
    if background == "noise":
        rng = np.random.default_rng(1)
        im = Image.fromarray(rng.integers(0, 256, (400, 600, 3), dtype=np.uint8))
    else:
        im = Image.new("RGB", (600, 400), background)
    before = encode(im, "PNG")
    result = handler.apply_explicit(before, SPEC)
    out = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"), dtype=np.int16)
    x0, y0, x1, y1 = result.geometry["box"]
    box = out[y0:y1, x0:x1]
    ink = box >= 230
    assert ink.sum() > 50
    background_in_box = box[~ink & (box < 200)]
    assert box[ink].mean() - background_in_box.mean() >= 150  # white on dark, whatever was beneath


def test_keeps_mode_size_and_icc(samples):
    for name in ("photo.jpg", "alpha.png", "alpha.webp", "photo.tif", "photo.gif", "lossless.webp"):
        src = Image.open(io.BytesIO(samples[name]))
        out = Image.open(io.BytesIO(handler.apply_explicit(samples[name], SPEC).data))
        assert out.size == src.size and out.format == src.format, name
        assert out.mode == src.mode or (src.mode == "P" and out.mode == "P"), name
        if src.info.get("icc_profile"):
            assert out.info.get("icc_profile") == src.info["icc_profile"], name


def test_jpeg_keeps_quantisation_tables(samples):
    src = Image.open(io.BytesIO(samples["photo.jpg"]))
    out = Image.open(io.BytesIO(handler.apply_explicit(samples["photo.jpg"], SPEC).data))
    assert out.quantization == src.quantization


def test_too_small_image_is_a_clear_error():
    with pytest.raises(InvalidInput, match="too small for a legible visible label"):
        handler.apply_explicit(encode(Image.new("RGB", (64, 64)), "PNG"), SPEC)


def test_text_without_glyph_is_a_clear_error():
    with pytest.raises(InvalidInput, match="no glyph"):
        handler.apply_explicit(encode(Image.new("RGB", (600, 400)), "PNG"), ExplicitLabelSpec("AI生成🙂"))


def test_bundled_font_covers_common_label_texts():
    for text in ("AI生成", "AI合成", "人工智能生成", "人工智能生成合成", "由AI生成", "本内容由人工智能生成"):
        visible.check_text(text)


def test_settings_reject_a_label_without_both_elements(tmp_path):
    from synthgov.config import load_settings
    from synthgov.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="visible_label_text"):
        load_settings(data_dir=tmp_path, visible_label_text="生成内容")
    with pytest.raises(ConfigurationError, match="visible_label_height_ratio"):
        load_settings(data_dir=tmp_path, visible_label_height_ratio=0.04)
