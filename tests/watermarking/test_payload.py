"""The shared payload layout: MAC, symbols, decoding, and the false-positive arithmetic."""

import numpy as np
import pytest

from synthgov.watermarking.falsepositives import FalsePositiveBudget
from synthgov.watermarking.keys import scheme_key
from synthgov.watermarking.payload import DecodeStats, PayloadCodec

CODEC = PayloadCodec()
KEY = scheme_key(b"0123456789abcdef-master", "image/keyed-ss-v2")


def test_symbols_round_trip_and_the_mac_binds_the_key():
    payload = 0xFEEDFACECAFEBEEF
    symbols = CODEC.symbols(KEY, payload)
    assert symbols.shape == (204,) and set(np.unique(symbols)) == {-1.0, 1.0}
    stats = DecodeStats()
    assert CODEC.decode(symbols * 0.7, KEY, list_size=4, stats=stats) == payload
    assert stats.decodes == 1 and stats.mac_checks == 1
    other = scheme_key(b"0123456789abcdef-master", "audio/other-v1")
    assert CODEC.decode(symbols, other, list_size=16) is None


def test_payload_range():
    with pytest.raises(ValueError):
        CODEC.symbols(KEY, 1 << 64)
    with pytest.raises(ValueError):
        CODEC.symbols(KEY, -1)


def test_random_words_never_pass():
    rng = np.random.default_rng(2)
    stats = DecodeStats()
    for _ in range(50):
        assert CODEC.decode(rng.normal(size=204), KEY, list_size=16, stats=stats) is None
    assert stats.mac_checks == 50 * 16


def test_scheme_keys_differ_per_scheme_and_need_a_real_master():
    assert scheme_key(b"m" * 32, "image/a-v1") != scheme_key(b"m" * 32, "image/a-v2")
    assert len(scheme_key(b"m" * 32, "video/x-v1")) == 32
    with pytest.raises(ValueError):
        scheme_key(b"short", "image/a-v1")


def test_false_positive_bound():
    budget = FalsePositiveBudget(decodings=27, list_size=16, mac_bits=32)
    assert budget.mac_checks == 432
    assert budget.bound == pytest.approx(432 / 2**32)
    assert "432 MAC checks" in budget.describe()
