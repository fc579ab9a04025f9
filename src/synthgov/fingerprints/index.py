"""``FingerprintIndex``: nearest stored fingerprints by Hamming distance.

Fingerprints are fixed-length bit strings (PDQ: 256 bits) compared by Hamming distance, whatever
the modality that computed them. :class:`LinearIndex` is the reference: one numpy pass over every
stored hash (32 MB per million 256-bit hashes, a few milliseconds per query at that size). A faiss
binary index can replace it behind the same protocol; nothing here is ever loaded with pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming(query: bytes, table: np.ndarray) -> np.ndarray:
    """Hamming distances from one hash to an (n, bytes) uint8 array of hashes of the same length."""
    q = np.frombuffer(query, dtype=np.uint8)
    counts: np.ndarray = _POPCOUNT[np.bitwise_xor(table, q)].sum(axis=1, dtype=np.int32)
    return counts


def distance(a: bytes, b: bytes) -> int:
    if len(a) != len(b):
        raise ValueError("fingerprints of different lengths cannot be compared")
    return int(hamming(a, np.frombuffer(b, dtype=np.uint8)[None, :])[0])


@dataclass(frozen=True)
class Hit:
    key: str  # what the caller stored the hash under (a record id)
    distance: int
    variant: int  # which query variant matched best (e.g. which rotation of an image)


class FingerprintIndex(Protocol):
    def add(self, keys: Sequence[str], hashes: Sequence[bytes]) -> None: ...

    def search(self, variants: Sequence[bytes], *, max_distance: int, limit: int) -> list[Hit]:
        """The ``limit`` nearest stored hashes within ``max_distance`` of any variant, nearest first."""
        ...


class LinearIndex:
    """The reference index: an exhaustive scan, exact, ties broken by insertion order."""

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._rows: list[bytes] = []
        self._table: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, keys: Sequence[str], hashes: Sequence[bytes]) -> None:
        if len(keys) != len(hashes):
            raise ValueError("one key per hash")
        if hashes and len({len(h) for h in [*self._rows[:1], *hashes]}) != 1:
            raise ValueError("all fingerprints in one index must have the same length")
        self._keys.extend(keys)
        self._rows.extend(hashes)
        self._table = None

    def search(self, variants: Sequence[bytes], *, max_distance: int, limit: int) -> list[Hit]:
        if not self._keys or not variants:
            return []
        if self._table is None:
            self._table = np.frombuffer(b"".join(self._rows), dtype=np.uint8).reshape(len(self._rows), -1)
        per_variant = np.stack([hamming(v, self._table) for v in variants])
        best_variant = per_variant.argmin(axis=0)
        best = per_variant.min(axis=0)
        order = [i for i in np.argsort(best, kind="stable")[:limit] if best[i] <= max_distance]
        return [Hit(self._keys[i], int(best[i]), int(best_variant[i])) for i in order]
