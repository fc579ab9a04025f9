"""Capability protocols every modality handler may implement, and the typed values they exchange.

Handlers never touch the database; domain services ask the registry for a capability and persist
results themselves. Labeling is one call: the handler receives the content once with a
:class:`LabelPlan` and returns :class:`Labeled` (one decode, one encode; none for metadata-only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from synthgov.provenance.label import AigcLabel, ParsedLabel


@dataclass(frozen=True)
class Example:
    """A small valid input a handler offers to the conformance kit."""

    name: str
    data: bytes
    extension: str


@dataclass(frozen=True)
class FormatInfo:
    """What the first bytes say, before any parsing: for early checks (extensions)."""

    modality: str
    format: str
    media_type: str
    extensions: tuple[str, ...]


@dataclass(frozen=True)
class MediaInfo(FormatInfo):
    """What the container walk found (no pixels decoded)."""

    width: int | None = None
    height: int | None = None
    frames: int = 1  # frames or pages


@dataclass
class FoundLabel:
    location: str
    parsed: ParsedLabel
    notes: list[str] = field(default_factory=list)
    placement: list[str] = field(default_factory=list)  # where or how it is stored against the guide

    @property
    def problems(self) -> list[str]:
        """Every non-conformity: of its place and form, then of the label itself."""
        return [*self.placement, *self.parsed.problems]

    @property
    def conformant(self) -> bool:
        return not self.placement and self.parsed.conformant


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
class WatermarkOrder:
    """Embed ``payload`` with the handler's scheme under ``key`` (the scheme's derived key)."""

    payload: int
    key: bytes


@dataclass(frozen=True)
class LabelPlan:
    """Everything one labeling applies, decided by the service before the handler sees the content."""

    metadata: AigcLabel | None = None
    explicit: ExplicitLabelSpec | None = None
    watermark: WatermarkOrder | None = None
    fingerprint: bool = False  # compute the perceptual fingerprint of the output for the record

    @property
    def changes_content(self) -> bool:
        return self.explicit is not None or self.watermark is not None


class LabelKind(StrEnum):
    WATERMARK = "watermark"
    EXPLICIT = "explicit"
    METADATA = "metadata"


@dataclass(frozen=True)
class Applied:
    """One label the handler applied (or skipped, with the reason)."""

    kind: LabelKind
    method: str  # e.g. "keyed-ss-v2", "visible-text", "xmp-tc260"
    skipped: str | None = None

    @property
    def tag(self) -> str:
        """The form generation records keep in ``labels_applied``."""
        return f"{self.kind}:skipped ({self.skipped})" if self.skipped else f"{self.kind}:{self.method}"


@dataclass(frozen=True)
class Fingerprint:
    hash: bytes
    quality: int | None


@dataclass(frozen=True)
class Labeled:
    data: bytes
    media: MediaInfo
    applied: tuple[Applied, ...]
    geometry: dict[str, Any] | None = None  # where the visible label went and how tall its ink is
    fingerprint: Fingerprint | None = None
    watermark_scheme: str | None = None  # the scheme that carries the payload, when one was embedded
    watermark_strength: dict[str, Any] | None = None  # how strong that mark is (MarkStrength.to_dict())

    def has(self, kind: LabelKind) -> bool:
        return any(a.kind is kind and not a.skipped for a in self.applied)


@dataclass(frozen=True)
class WatermarkReading:
    scheme: str
    payload: int
    confidence: float  # synchronisation z-score
    detail: dict[str, Any]


class Handler(Protocol):
    modality: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    def accept(self, prefix: bytes) -> bool:
        """Cheap sniffing of the first bytes, before any decoding."""

    def format_info(self, prefix: bytes) -> FormatInfo:
        """The format the first bytes name (raises UnsupportedMedia when none)."""

    def examples(self) -> list[Example]: ...

    def probe(self, data: bytes) -> MediaInfo:
        """Validate the container and return what it is; raise a SynthgovError on bad input."""


@runtime_checkable
class Labeler(Protocol):
    def label(self, data: bytes, plan: LabelPlan) -> Labeled:
        """Apply ``plan`` in one pass: decode at most once, encode at most once (never for
        metadata-only), write exactly one metadata label, read it back and fail closed."""


@runtime_checkable
class MetadataReader(Protocol):
    def read_labels(self, data: bytes) -> MetadataReport: ...


@runtime_checkable
class Watermarker(Protocol):
    watermark_scheme: ClassVar[str]

    def detect_watermark(self, data: bytes, key: bytes) -> WatermarkReading | None:
        """This key's mark, if present and its MAC checks; WatermarkUnsupported when it cannot be read."""


@runtime_checkable
class ExplicitLabelDetector(Protocol):
    def detect_explicit(self, data: bytes) -> list[str]: ...


@runtime_checkable
class Fingerprinter(Protocol):
    def fingerprint(self, data: bytes) -> Fingerprint:
        """The perceptual hash of the content as stored in records."""

    def fingerprint_variants(self, data: bytes) -> list[bytes]:
        """Hashes to query with (e.g. the rotations and mirror images of an image)."""


CAPABILITIES: dict[str, type] = {
    "label": Labeler,
    "metadata-label-reader": MetadataReader,
    "watermark": Watermarker,
    "explicit-label-detector": ExplicitLabelDetector,
    "fingerprint": Fingerprinter,
}
