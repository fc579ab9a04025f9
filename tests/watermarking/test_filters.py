"""OpenCV's filters (the ``fast`` extra) and SciPy's give the same planes, so a mark made with one
reads the same with the other, and an install without OpenCV makes the same marks."""

import numpy as np
import pytest
from PIL import Image

from synthgov.modalities.image.watermark import detection, embedding
from synthgov.watermarking import filters
from tests.conftest import IN_CI, load_photo

try:
    import cv2  # noqa: F401
except ImportError:  # pragma: no cover - only where the test extra was not installed
    if IN_CI:
        raise
    pytest.skip("OpenCV (the fast extra) is not installed: nothing to compare", allow_module_level=True)

KEY = b"k" * 32


@pytest.fixture
def both():
    yield
    filters.use_opencv(True)


def _with(opencv: bool, fn):
    filters.use_opencv(opencv)
    try:
        return fn()
    finally:
        filters.use_opencv(True)


def test_each_filter_agrees_with_scipy(both):
    from scipy.ndimage import gaussian_filter, minimum_filter, uniform_filter

    rng = np.random.default_rng(3)
    plane = (rng.random((61, 97)) * 255).astype(np.float32)
    plane[:, :20] = 40.0  # flat next to texture: where borders and anchors show
    for sigma, truncate, mode in ((2.0, 3.0, "reflect"), (4.0, 3.0, "reflect"), (1.5, 4.0, "constant")):
        want = gaussian_filter(plane, sigma, mode=mode, cval=0.0, truncate=truncate)
        got = filters.gaussian(plane, sigma, truncate=truncate, mode=mode)
        assert np.abs(got - want).max() < 1e-3
    for size in (3, 5):
        assert np.abs(filters.box(plane, size) - uniform_filter(plane, size)).max() < 1e-3
    for size in (2, 4, 7, 8):  # even windows too: OpenCV must be anchored where SciPy centres them
        assert np.array_equal(filters.minimum(plane, size), minimum_filter(plane, size=size))
    with pytest.raises(ValueError):
        filters.box(plane, 4)
    from scipy.ndimage import binary_dilation

    mask = rng.random((61, 97)) > 0.97
    mask[0, :3] = mask[-1, -1] = True  # at the borders
    for steps in (1, 3):
        assert np.array_equal(filters.dilate(mask, steps), binary_dilation(mask, iterations=steps))


def test_adding_offsets_rounds_clips_and_counts_alike(both):
    rng = np.random.default_rng(5)
    src = rng.integers(0, 256, (33, 47, 3), dtype=np.uint8)
    src[0, :5] = (0, 255, 128)
    offsets = tuple((rng.standard_normal((33, 47)) * 3).astype(np.float32) for _ in range(3))
    offsets[0][0, :5] = (-0.5, 0.5, 1.5, 2.5, -300.0)  # halves to even, and a clip
    fast = _with(True, lambda: filters.add_offsets(src, offsets))
    slow = _with(False, lambda: filters.add_offsets(src, offsets))
    assert np.array_equal(fast[0], slow[0]) and fast[1] == pytest.approx(slow[1])
    expected = np.clip(np.rint(np.stack(offsets, axis=-1)) + src, 0, 255)
    assert np.array_equal(fast[0], expected.astype(np.uint8))
    assert fast[1] == pytest.approx(float(((expected - src) ** 2).sum()))


def test_a_mark_made_either_way_is_the_same_mark(both):
    photo = load_photo("coffee.png").resize((480, 320), Image.Resampling.LANCZOS)
    fast, fast_report = _with(True, lambda: embedding.embed_reported(photo, KEY, 0x1234))
    slow, slow_report = _with(False, lambda: embedding.embed_reported(photo, KEY, 0x1234))
    differ = np.asarray(fast) != np.asarray(slow)
    assert differ.mean() < 1e-4  # float rounding may flip a pixel by one code value, nothing more
    assert np.abs(np.asarray(fast, dtype=int) - np.asarray(slow, dtype=int)).max() <= 1
    assert abs(fast_report.margin - slow_report.margin) < 0.05
    for reader in (True, False):
        found = _with(reader, lambda: detection.detect(slow if reader else fast, KEY))
        assert found is not None and found.payload == 0x1234
