"""Capability protocols every modality handler may implement, and the value types they exchange.

Handlers never touch the database; domain services ask the registry for a capability and persist
results themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from synthgov.provenance.label import AigcLabel, ParsedLabel


@dataclass(frozen=True)
class Example:
    """A small valid input a handler offers to the conformance kit."""

    name: str
    data: bytes
    extension: str


@dataclass(frozen=True)
class MediaInfo:
    modality: str
    format: str
    media_type: str
    extensions: tuple[str, ...]
    width: int | None = None
    height: int | None = None


@dataclass
class FoundLabel:
    location: str
    parsed: ParsedLabel
    notes: list[str] = field(default_factory=list)


@dataclass
class MetadataReport:
    info: MediaInfo
    labels: list[FoundLabel] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # file-level non-conformities (e.g. duplicates)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExplicitLabelSpec:
    text: str
    position: str = "bottom-right"
    height_ratio: float = 0.06


@dataclass(frozen=True)
class ExplicitResult:
    data: bytes
    geometry: dict  # where the label went and how tall its ink is, for the record and for checks


class Handler(Protocol):
    modality: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    def accept(self, prefix: bytes) -> bool:
        """Cheap sniffing of the first bytes, before any decoding."""

    def examples(self) -> list[Example]: ...

    def probe(self, data: bytes) -> MediaInfo:
        """Validate the container and return what it is; raise a SynthgovError on bad input."""


@dataclass(frozen=True)
class WatermarkReading:
    payload: int
    confidence: float  # synchronisation z-score
    detail: dict


@runtime_checkable
class MetadataLabeler(Protocol):
    def read_labels(self, data: bytes) -> MetadataReport: ...

    def write_label(self, data: bytes, label: AigcLabel) -> bytes:
        """Return ``data`` carrying exactly one metadata label (update, never append)."""


@runtime_checkable
class ExplicitLabeler(Protocol):
    def apply_explicit(self, data: bytes, spec: ExplicitLabelSpec) -> ExplicitResult: ...


@runtime_checkable
class Watermarker(Protocol):
    def embed_watermark(self, data: bytes, payload: int, key: bytes) -> bytes:
        """``data`` carrying a keyed 64-bit payload; raises WatermarkUnsupported when it cannot."""

    def detect_watermark(self, data: bytes, key: bytes) -> WatermarkReading | None: ...


@runtime_checkable
class ExplicitLabelDetector(Protocol):
    def detect_explicit(self, data: bytes) -> list[str]: ...


@runtime_checkable
class Fingerprinter(Protocol):
    def fingerprint(self, data: bytes) -> tuple[bytes, int | None]:
        """(perceptual hash, quality or None) of the content as stored in records."""

    def fingerprint_variants(self, data: bytes) -> list[bytes]:
        """Hashes to query with (e.g. the rotations and mirror images of an image)."""

    def distance(self, a: bytes, b: bytes) -> int: ...


CAPABILITIES: dict[str, type] = {
    "metadata-label": MetadataLabeler,
    "explicit-label": ExplicitLabeler,
    "watermark": Watermarker,
    "explicit-label-detector": ExplicitLabelDetector,
    "fingerprint": Fingerprinter,
}
