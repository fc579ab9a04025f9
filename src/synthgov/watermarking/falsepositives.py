"""The false-positive arithmetic every scheme reports.

A reading is accepted only when a candidate word's MAC checks. For an unmarked input (or a wrong
key) every candidate is a random word, which passes a ``mac_bits`` MAC with probability
2^-mac_bits; a detector that tries at most ``decodings`` decodings of ``list_size`` words each
checks at most their product, so by the union bound the chance of any false reading per input is
below ``decodings * list_size * 2^-mac_bits``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FalsePositiveBudget:
    decodings: int  # the most decodings one reading may try
    list_size: int  # candidate words per decoding
    mac_bits: int

    @property
    def mac_checks(self) -> int:
        return self.decodings * self.list_size

    @property
    def bound(self) -> float:
        """Upper bound of the probability of a false reading per input."""
        return self.mac_checks * 2.0 ** -self.mac_bits

    def describe(self) -> str:
        return (f"at most {self.decodings} decodings x {self.list_size} words = {self.mac_checks} MAC checks "
                f"of {self.mac_bits} bits: false-positive bound {self.bound:.1e} per input")
