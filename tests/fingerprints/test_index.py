"""The fingerprint index protocol and its linear reference."""

import numpy as np
import pytest

from synthgov.fingerprints.index import FingerprintIndex, LinearIndex, distance, hamming


def test_distance_is_hamming():
    assert distance(bytes(32), bytes([0xFF] + [0] * 31)) == 8
    assert hamming(bytes(2), np.array([[1, 3], [255, 255]], dtype=np.uint8)).tolist() == [3, 16]
    with pytest.raises(ValueError):
        distance(bytes(32), bytes(16))


def test_linear_index_finds_the_nearest_within_the_threshold_best_variant_first():
    rng = np.random.default_rng(1)
    stored = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(200)]
    index: FingerprintIndex = LinearIndex()
    index.add([f"r{i}" for i in range(200)], stored)
    near = bytearray(stored[17])
    near[0] ^= 0b111  # 3 bits off
    hits = index.search([bytes(32), bytes(near)], max_distance=31, limit=5)
    assert [h.key for h in hits] == ["r17"] and hits[0].distance == 3 and hits[0].variant == 1
    assert index.search([bytes(near)], max_distance=2, limit=5) == []
    assert LinearIndex().search([bytes(near)], max_distance=64, limit=5) == []


def test_linear_index_refuses_mixed_lengths():
    index = LinearIndex()
    index.add(["a"], [bytes(32)])
    with pytest.raises(ValueError):
        index.add(["b"], [bytes(8)])
    with pytest.raises(ValueError):
        index.add(["c", "d"], [bytes(32)])
