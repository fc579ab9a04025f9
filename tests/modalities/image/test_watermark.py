"""The image watermark scheme (image/keyed-ss-v2): patterns, round trips, robustness smoke, bounds,
and the watermarking package's conformance kit."""

import io
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from synthgov.modalities.image import watermark as wm
from synthgov.modalities.image.watermark.config import CODEC, DEFAULT
from synthgov.modalities.image.watermark.patterns import patterns
from synthgov.watermarking.payload import DecodeStats
from synthgov.watermarking.testing import SchemeConformance
from tests.conftest import load_photo

KEY = b"provider-key-0123456789abcdef012"


class TestImageSchemeConformance(SchemeConformance):
    scheme = wm.ImageWatermark()

    def hosts(self):
        return [load_photo("chelsea.png").resize((384, 256)), load_photo("astronaut.png").resize((320, 320))]


def test_patterns_are_keyed_and_orthonormal():
    pilot, codes = patterns(KEY, DEFAULT)
    flat = np.concatenate([pilot[None], codes]).reshape(1 + CODEC.coded_bits, -1) / DEFAULT.grid
    assert np.allclose(flat @ flat.T, np.eye(1 + CODEC.coded_bits), atol=1e-4)
    assert not np.allclose(patterns(b"another key", DEFAULT)[0], pilot)


def test_round_trip_wrong_key_and_unmarked():
    photo = load_photo("rocket.jpg")
    marked = wm.embed(photo, KEY, 0xDEADBEEF12345678)
    diff = np.asarray(marked, np.float64) - np.asarray(photo, np.float64)
    assert 10 * np.log10(255**2 / np.mean(diff**2)) >= 40.0
    found = wm.detect(marked, KEY)
    assert found is not None and found.payload == 0xDEADBEEF12345678
    assert wm.detect(marked, b"someone else's key") is None
    assert wm.detect(photo, KEY) is None


def test_too_small():
    with pytest.raises(wm.TooSmall, match="too small to carry"):
        wm.embed(Image.new("RGB", (200, 300)), KEY, 1)
    with pytest.raises(wm.TooSmall, match="too small to read"):
        wm.detect(Image.new("RGB", (90, 300)), KEY)


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = np.asarray(a.convert("RGB"), np.float64) - np.asarray(b.convert("RGB"), np.float64)
    return float(10 * np.log10(255**2 / np.mean(diff**2)))


def reencode(im: Image.Image, fmt: str, **options) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return Image.open(io.BytesIO(buf.getvalue()))


@pytest.mark.parametrize(("size", "mode", "fmt"), [
    ((256, 256), "RGB", "PNG"),
    ((640, 427), "RGB", "JPEG"),
    ((300, 900), "RGBA", "PNG"),
    ((1280, 720), "L", "PNG"),
    ((1024, 1024), "RGB", "WEBP"),
])
def test_round_trip_sizes_modes_and_formats(size, mode, fmt):
    photo = load_photo("coffee.png").resize(size).convert(mode)
    payload = 0x0123456789ABCDEF
    marked = wm.embed(photo, KEY, payload)
    assert marked.mode == mode and marked.size == size
    assert psnr(photo, marked) >= 40.0
    saved = reencode(marked, fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
    found = wm.detect(saved, KEY)
    assert found is not None and found.payload == payload


SMOKE = ("jpeg50", "crop70+jpeg75", "rotate-3", "screenshot", "brightness+20")


@pytest.mark.parametrize(("strength", "attacks"), [
    # the robust setting keeps the whole smoke set (the uniform mark before issue 9 did, at PSNR 40)
    (2.0, SMOKE),
    # the quality-first default, on this small busy photograph, keeps JPEG 75, a 70 % crop re-encoded
    # at q90, rotation, the screenshot chain and brightness; JPEG 50 and a crop re-encoded at q75 are
    # marginal here (docs/benchmarks.md gives the rates over the whole corpus)
    (1.0, ("jpeg75", "crop70+jpeg90", "rotate-3", "screenshot", "brightness+20")),
])
def test_survives_a_smoke_set_of_attacks(strength, attacks):
    """A small version of the benchmark's sweep (bench/watermark.py runs the full one)."""
    cfg = wm.DEFAULT.model_copy(update={"strength": strength})
    photo = load_photo("astronaut.png")  # the hardest test photograph: textured and partly saturated
    marked = wm.embed(photo, KEY, 42, cfg)
    w, h = marked.size
    crop = marked.crop((40, 70, 40 + int(w * 0.84), 70 + int(h * 0.84)))  # 70 % of the area
    attacked = {
        "jpeg50": lambda: reencode(marked, "JPEG", quality=50, subsampling=2),
        "jpeg75": lambda: reencode(marked, "JPEG", quality=75),
        "crop70+jpeg75": lambda: reencode(crop, "JPEG", quality=75),
        "crop70+jpeg90": lambda: reencode(crop, "JPEG", quality=90),
        "rotate-3": lambda: marked.rotate(-3, Image.Resampling.BICUBIC),
        "screenshot": lambda: reencode(marked.resize((int(w * 0.75), int(h * 0.75))), "JPEG", quality=85),
        "brightness+20": lambda: ImageEnhance.Brightness(marked).enhance(1.2),
    }
    for name in attacks:
        found = wm.detect(attacked[name](), KEY, cfg)
        assert found is not None and found.payload == 42, name


@pytest.mark.parametrize(("name", "size"), [("chelsea.png", None), ("coffee.png", (300, 400))])
def test_quarter_turns_and_mirror_images(name, size):
    """The square lattice gives the rotation modulo 90 degrees; the eight orientations of the folded tile
    settle the rest, and the reading says what was done to the picture (as Pillow's rotate counts)."""
    photo = load_photo(name)
    marked = wm.embed(photo if size is None else photo.resize(size), KEY, 77)
    flip = Image.Transpose.FLIP_LEFT_RIGHT
    cases = [(marked.rotate(90, expand=True), 90.0, False), (marked.rotate(180), 180.0, False),
             (marked.rotate(270, expand=True), -90.0, False), (marked.transpose(flip), 0.0, True),
             (marked.transpose(flip).rotate(90, expand=True), 90.0, True),
             (marked.rotate(93, Image.Resampling.BICUBIC, expand=True), 93.0, False),
             (marked.transpose(flip).rotate(-87, Image.Resampling.BICUBIC, expand=True), -87.0, True)]
    for image, rotation, mirrored in cases:
        found = wm.detect(image, KEY)
        assert found is not None and found.payload == 77, (rotation, mirrored)
        assert abs(found.rotation_deg - rotation) < 0.8 and found.mirrored == mirrored, found


@pytest.mark.parametrize(("size", "keep"), [((1800, 1200), 0.28), ((1500, 1000), 0.45), ((450, 300), 0.75)])
def test_small_crops(size, keep):
    """How small a crop keeps the payload (docs/watermark.md), at three offsets each: 28 % of each
    side of a large image (tiles of a quarter of the shortest side, which the half-side layout's
    working resolution sees at up to 2x), 45 % of a 1000-px one (the embedder keeps the half-side
    layout for this picture: tiles of 500 px), 75 % of a small one (it keeps one tile the size of
    the shortest side, which reads after JPEG q50 and is only partly seen in a crop)."""
    marked = wm.embed(load_photo("chelsea.png").resize(size), KEY, 31)
    w, h = marked.size
    cw, ch = round(w * keep), round(h * keep)
    for fx, fy in ((0.1, 0.8), (0.5, 0.5), (0.9, 0.2)):
        x, y = round((w - cw) * fx), round((h - ch) * fy)
        found = wm.detect(marked.crop((x, y, x + cw, y + ch)), KEY)
        assert found is not None and found.payload == 31, (fx, fy)


def test_forged_payloads_do_not_verify():
    """Marking with one key and reading with another never yields a payload, even one that was embedded."""
    photo = load_photo("chelsea.png")
    for i in range(4):
        marked = wm.embed(photo, f"other-key-{i}".encode(), 7)
        assert wm.detect(marked, KEY) is None


def test_unmarked_images_pass_no_candidate_word():
    """The false-positive smoke (the benchmark runs 20,000 decodings): every geometry and shift decoded
    with the whole candidate list on unmarked crops; no word passes the MAC, and the count of MAC checks
    stays within the per-image bound the docs give."""
    stats = DecodeStats()
    rng = np.random.default_rng(5)
    images = 0
    for name in ("astronaut.png", "coffee.png", "rocket.jpg"):
        photo = load_photo(name)
        for _ in range(2):
            w, h = photo.size
            cw, ch = int(w * rng.uniform(0.4, 1.0)), int(h * rng.uniform(0.4, 1.0))
            x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            crop = photo.crop((x, y, x + cw, y + ch))
            assert wm.detect(crop, KEY, z_min=-1e9, list_z=-1e9, stats=stats) is None
            images += 1
    assert stats.mac_checks == stats.decodes * DEFAULT.list_size
    assert images * DEFAULT.max_decodes >= stats.decodes >= images * DEFAULT.shifts * len(DEFAULT.layouts)
    assert DEFAULT.budget.mac_checks == 768 and DEFAULT.budget.bound < 1.8e-7


def test_embedding_memory_does_not_grow_with_the_image():
    """8K: the embedder works in strips; numpy holds less than three quarters of one RGB copy of the image
    (a full-resolution float32 design holds several times the image)."""
    im = load_photo("rocket.jpg").resize((7680, 4320), Image.Resampling.BICUBIC)
    wm.embed(im.resize((512, 288)), KEY, 1)  # warm the keyed caches outside the measurement
    tracemalloc.start()
    try:
        marked = wm.embed(im, KEY, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.75 * 7680 * 4320 * 3, f"{peak / 2**20:.0f} MiB"
    found = wm.detect(marked, KEY)
    assert found is not None and found.payload == 1


@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0)])
def test_images_with_nothing_to_carry_the_mark_say_so(colour):
    with pytest.raises(wm.Unmarkable, match="nothing in this 512x512 image can carry"):
        wm.embed(Image.new("RGB", (512, 512), colour), KEY, 1)
    saturated = wm.embed(Image.new("RGB", (512, 512), (255, 0, 0)), KEY, 3)  # luminance still carries it
    found = wm.detect(saturated, KEY)
    assert found is not None and found.payload == 3
