"""What a watermark scheme is: a named channel of one modality that carries the shared payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from synthgov.watermarking.falsepositives import FalsePositiveBudget
from synthgov.watermarking.payload import DecodeStats, PayloadCodec

HostT = TypeVar("HostT")


@dataclass(frozen=True)
class Reading:
    payload: int
    confidence: float  # the scheme's synchronisation z-score; > 6 is far from chance
    detail: dict[str, Any] = field(default_factory=dict)


class Expected(StrEnum):
    """What the mark of one piece of content can be expected to survive (docs/watermark.md)."""

    ROBUST = "robust"  # the benchmark's attacks: re-encoding, resizing, crops, rotation
    LIMITED = "limited"  # light re-encoding and resizing; heavy JPEG or crops may lose it
    UNRELIABLE = "unreliable"  # the picture has too little room: tracing relies on the label and fingerprint


@dataclass(frozen=True)
class MarkStrength:
    """How strong the embedded mark is, as the generation record keeps it."""

    strength: float  # the operator's setting the mark was made with
    check: str  # the attack the embedder tried on its own output (e.g. "JPEG q50 copy")
    margin: float  # dB: the scheme's measure of what the detector gets from that copy (image: code-symbol SNR)
    psnr: float  # dB, the classic figure (the perceptual model decides the amplitude, not this)
    expected: Expected

    @property
    def note(self) -> str:
        return {Expected.ROBUST: "expected to survive re-encoding, resizing, crops and rotation",
                Expected.LIMITED: "expected to survive light re-encoding and resizing; heavy compression or "
                                  "crops may lose it",
                Expected.UNRELIABLE: "too little room for a reliable mark: tracing relies on the metadata label "
                                     "and the fingerprint"}[self.expected]

    def to_dict(self) -> dict[str, Any]:
        return {"strength": self.strength, "check": self.check, "margin": self.margin, "unit": "dB", "psnr": self.psnr,
                "expected": self.expected.value, "note": self.note}


def margin_text(strength: dict[str, Any]) -> str:
    """How a record's ``watermark_strength`` margin reads: "SNR 6.5 dB on a JPEG q50 copy"; records
    made before the calibrated embedder kept a pilot z-score ("z 8.7 on a JPEG q75 copy")."""
    if strength.get("unit") == "dB":
        return f"SNR {strength['margin']} dB on a {strength['check']}"
    return f"z {strength['margin']} on a {strength['check']}"


class Unmarkable(ValueError):
    """This content cannot carry the watermark (the message says why)."""


class TooSmall(Unmarkable):
    pass


@runtime_checkable
class Scheme(Protocol[HostT]):
    name: ClassVar[str]  # "<modality>/<method>-v<N>": the key derivation and the payload table use it
    codec: PayloadCodec

    @property
    def budget(self) -> FalsePositiveBudget: ...

    def embed(self, host: HostT, key: bytes, payload: int) -> HostT: ...

    def detect(self, host: HostT, key: bytes, *, stats: DecodeStats | None = None) -> Reading | None: ...
