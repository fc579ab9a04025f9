"""The experimental watermark's building blocks (issue 4, not yet wired into labeling)."""

import numpy as np
import pytest
from PIL import Image

from synthgov.modalities.image import watermark as wm
from tests.conftest import load_photo

KEY = b"provider-key-0123456789abcdef012"


def test_convolutional_code_corrects_noise():
    rng = np.random.default_rng(3)
    info = [int(b) for b in rng.integers(0, 2, wm.INFO_BITS)]
    symbols = 1.0 - 2.0 * wm.conv_encode(info)
    noisy = symbols + rng.normal(0, 0.6, symbols.shape)  # about 5 % raw symbol errors
    assert np.mean(np.sign(noisy) != symbols) > 0.01
    assert wm.viterbi(noisy) == info


def test_patterns_are_keyed_and_orthonormal():
    pilot, codes = wm.patterns(KEY)
    flat = np.concatenate([pilot[None], codes]).reshape(1 + wm.CODED_BITS, -1) / wm.G
    assert np.allclose(flat @ flat.T, np.eye(1 + wm.CODED_BITS), atol=1e-4)
    assert not np.allclose(wm.patterns(b"another key")[0], pilot)


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
