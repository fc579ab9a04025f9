"""Conformance kit for watermark schemes: each scheme's tests subclass :class:`SchemeConformance`
and supply a scheme and a few hosts; the kit checks what every scheme promises."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

import pytest

from synthgov.watermarking.keys import scheme_key
from synthgov.watermarking.payload import DecodeStats
from synthgov.watermarking.scheme import Scheme


class SchemeConformance:
    scheme: ClassVar[Scheme[Any]]

    def hosts(self) -> list[Any]:
        raise NotImplementedError

    @pytest.fixture
    def key(self) -> bytes:
        return scheme_key(b"conformance-master-key-0123456789", type(self).scheme.name)

    def test_name_is_modality_slash_method_version(self) -> None:
        modality, _, method = self.scheme.name.partition("/")
        assert modality and method and "-v" in method

    def test_round_trip_recovers_the_payload(self, key: bytes) -> None:
        for host in self.hosts():
            payload = secrets.randbits(self.scheme.codec.payload_bits)
            reading = self.scheme.detect(self.scheme.embed(host, key, payload), key)
            assert reading is not None and reading.payload == payload

    def test_wrong_key_and_unmarked_read_nothing(self, key: bytes) -> None:
        other = scheme_key(b"another-master-key-000000000000000", self.scheme.name)
        for host in self.hosts():
            marked = self.scheme.embed(host, key, 0x0123456789ABCDEF)
            assert self.scheme.detect(marked, other) is None
            assert self.scheme.detect(host, key) is None

    def test_stays_within_its_false_positive_budget(self, key: bytes) -> None:
        budget = self.scheme.budget
        assert budget.bound <= 1e-6, budget.describe()
        for host in self.hosts():
            stats = DecodeStats()
            self.scheme.detect(host, key, stats=stats)
            assert stats.decodes <= budget.decodings and stats.mac_checks <= budget.mac_checks

    def test_payload_out_of_range_is_refused(self, key: bytes) -> None:
        host = self.hosts()[0]
        with pytest.raises(ValueError):
            self.scheme.embed(host, key, 1 << self.scheme.codec.payload_bits)
