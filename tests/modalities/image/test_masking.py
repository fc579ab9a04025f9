"""The perceptual model's luminance rule: light where chroma can carry the mark, full where it cannot."""

from __future__ import annotations

import numpy as np

from synthgov.modalities.image.watermark import DEFAULT, masking


def _host(rgb: tuple[int, int, int]) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.clip(np.array(rgb, dtype=np.float32) + rng.normal(0, 2, (96, 96, 3)), 0, 255).astype(np.float32)


def test_luminance_is_light_where_chroma_carries_and_full_where_it_cannot():
    grey_mid = _host((128, 128, 128))
    colour = masking.amplitudes(grey_mid, DEFAULT, chroma_weight=1.0)
    grey = masking.amplitudes(grey_mid, DEFAULT, chroma_weight=0.0)
    assert float(colour.chroma.mean()) > 0 and float(grey.chroma.max()) == 0.0
    assert np.allclose(grey.luma, colour.luma * DEFAULT.jnd.grey_luma, rtol=1e-4)
    # saturated red leaves chroma no room: luminance takes the mark at full amplitude there
    red = masking.amplitudes(_host((250, 2, 60)), DEFAULT, chroma_weight=1.0)
    inner = (slice(8, -8), slice(8, -8))
    assert float(red.chroma[inner].max()) < 0.1 * float(colour.chroma[inner].mean())
    assert float(red.luma[inner].mean()) > 1.9 * float(colour.luma[inner].mean())


def test_strength_scales_both_planes():
    host = _host((120, 140, 100))
    one = masking.amplitudes(host, DEFAULT, 1.0)
    two = masking.amplitudes(host, DEFAULT.model_copy(update={"strength": 2.0}), 1.0)
    assert np.allclose(two.luma, 2 * one.luma, rtol=1e-5) and np.allclose(two.chroma, 2 * one.chroma, rtol=1e-5)


def test_calibration_ranges_that_cannot_work_are_refused():
    import pytest
    from pydantic import ValidationError

    from synthgov.modalities.image.watermark import ImageWatermarkConfig

    for bad in ({"gain_range": (0.0, 1.4)}, {"gain_range": (1.2, 1.4)}, {"gain_range": (0.5, 0.9)},
                {"limited_snr": 5.0, "robust_snr": 4.5}):
        with pytest.raises(ValidationError, match="gain_range|limited_snr"):
            ImageWatermarkConfig(**bad)
