"""Image container formats: cheap sniffing, and what a container walk finds."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NoReturn


class ImageFormat(StrEnum):
    JPEG = "JPEG"
    PNG = "PNG"
    WEBP = "WEBP"
    TIFF = "TIFF"
    GIF = "GIF"
    AVIF = "AVIF"
    HEIF = "HEIF"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self]

    @property
    def extensions(self) -> tuple[str, ...]:
        return EXTENSIONS[self]


MEDIA_TYPES = {
    ImageFormat.JPEG: "image/jpeg",
    ImageFormat.PNG: "image/png",
    ImageFormat.WEBP: "image/webp",
    ImageFormat.TIFF: "image/tiff",
    ImageFormat.GIF: "image/gif",
    ImageFormat.AVIF: "image/avif",
    ImageFormat.HEIF: "image/heic",
}
EXTENSIONS = {
    ImageFormat.JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    ImageFormat.PNG: (".png",),
    ImageFormat.WEBP: (".webp",),
    ImageFormat.TIFF: (".tif", ".tiff"),
    ImageFormat.GIF: (".gif",),
    ImageFormat.AVIF: (".avif",),
    ImageFormat.HEIF: (".heic", ".heif", ".hif"),
}
ALL_IMAGE_EXTENSIONS = {ext: fmt for fmt, exts in EXTENSIONS.items() for ext in exts}


def sniff(prefix: bytes) -> ImageFormat | None:
    if prefix[:3] == b"\xff\xd8\xff":
        return ImageFormat.JPEG
    if prefix[:8] == b"\x89PNG\r\n\x1a\n":
        return ImageFormat.PNG
    if prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if prefix[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return ImageFormat.TIFF
    if prefix[:6] in (b"GIF87a", b"GIF89a"):
        return ImageFormat.GIF
    if prefix[4:8] == b"ftyp":
        from synthgov.modalities.image.heif import kind

        found = kind(prefix)
        return ImageFormat(found) if found else None
    return None


# The most XMP, EXIF and text a walk may gather (inflated): set by the handler from its config
# while it walks, checked as the walk goes, so that many compressed text chunks cannot inflate
# into gigabytes before the limit is seen.
METADATA_LIMIT: ContextVar[int] = ContextVar("synthgov_image_metadata_limit", default=16 * 1024 * 1024)


def trailing_chunks(container: str, after: str, kinds: list[bytes]) -> str:
    """The problem for whole chunks found past a container's end (``after``): how many, and each
    kind once, at most five (a hostile trailer of thousands stays one short line)."""
    names = list(dict.fromkeys(k.decode("latin-1") for k in kinds))
    shown = ", ".join(repr(k) for k in names[:5]) + (", …" if len(names) > 5 else "")
    return f"{container} has {len(kinds)} chunk{'s' if len(kinds) > 1 else ''} {after} ({shown}): read anyway"


def check_metadata(total: int) -> None:
    limit = METADATA_LIMIT.get()
    if total > limit:
        from synthgov.errors import HostileInput

        raise HostileInput(f"image holds more than {limit} bytes of metadata (XMP, EXIF, text); refused")


def strict(message: str) -> NoReturn:
    """How a strict walk (labeling) meets damage: it refuses the file."""
    from synthgov.errors import CorruptMedia

    raise CorruptMedia(message)


Broken = Callable[[str], None]  # what a walker calls on damage: strict raises, a lenient walk notes and goes on


@dataclass(frozen=True)
class TextLabel:
    """A label found as text outside XMP: where, the raw value, and what is wrong with the place
    (None where the place is one the image guide names, e.g. Annex B's PNG tEXt ``AIGC``)."""

    location: str
    raw: str
    problem: str | None = None


@dataclass(frozen=True)
class StrayXmp:
    """An XMP packet outside the format's XMP place (a non-standard JPEG APP1 header, ExtendedXMP,
    GIF sub-blocks): read, and the place named as a problem of every label in it."""

    location: str
    packet: bytes
    problem: str


@dataclass
class Scan:
    """What a container walk found: XMP packets, an EXIF block, Annex B text labels, problems.

    A ``lenient`` walk (reading labels) goes on past damage where it can and lists it in ``damage``;
    a strict walk (labeling, which rewrites the file) refuses damaged input."""

    xmp: list[bytes] = field(default_factory=list)
    exif: bytes | None = None  # TIFF-structured EXIF ("II*\0…"/"MM\0*…")
    exif_place: tuple[str, str] | None = None  # (where, problem) when the EXIF came from outside the format's place
    text_labels: list[TextLabel] = field(default_factory=list)
    stray_xmp: list[StrayXmp] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)
    lenient: bool = False
    notes: list[str] = field(default_factory=list)
    xmp_location: str = "XMP"
    width: int | None = None  # from the container header, without decoding
    height: int | None = None
    frames: int = 1  # animation frames (GIF, APNG, WebP) or pages (TIFF), counted in the container
    frame_sizes: list[tuple[int, int]] = field(default_factory=list)  # per page where pages differ (TIFF)
    parts: int = 0  # chunks, segments, blocks or IFD entries walked
    metadata_bytes: int = 0  # XMP, EXIF and text the walk found (inflated)

    def broken(self, message: str) -> None:
        """Damage met: a strict walk raises CorruptMedia; a lenient one notes it and returns."""
        if not self.lenient:
            strict(message)
        if message not in self.damage:
            self.damage.append(message)

    @property
    def decoded_pixels(self) -> int:
        """What decoding every frame and page costs: the canvas per animation frame, each page's own size."""
        if self.frame_sizes:
            return sum(w * h for w, h in self.frame_sizes)
        return (self.width or 0) * (self.height or 0) * self.frames
