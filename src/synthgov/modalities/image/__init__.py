"""The image modality: JPEG, PNG, WebP, TIFF and GIF.

Capabilities: metadata label (XMP ``TC260:AIGC`` per TC260-PG-20259A, read also from the Annex B
EXIF UserComment and PNG text forms) and explicit label (GB 45438 5.2).
"""

from __future__ import annotations

import io
import warnings
from typing import ClassVar

from PIL import Image
from pydantic import BaseModel, Field

from synthgov.errors import (
    CorruptMedia,
    HostileInput,
    SynthgovError,
    TooLarge,
    UnsupportedMedia,
    WatermarkUnsupported,
)
from synthgov.modalities.base import (
    Example,
    ExplicitLabelSpec,
    ExplicitResult,
    FoundLabel,
    MediaInfo,
    MetadataReport,
    WatermarkReading,
)
from synthgov.modalities.image import encode, fingerprint, gif, jpeg, png, tiff, visible, watermark, webp, xmp
from synthgov.modalities.image.formats import ImageFormat, Scan, sniff
from synthgov.provenance.label import AigcLabel, LabelForm, parse_label_text

CONTAINERS = {
    ImageFormat.JPEG: jpeg,
    ImageFormat.PNG: png,
    ImageFormat.WEBP: webp,
    ImageFormat.TIFF: tiff,
    ImageFormat.GIF: gif,
}
USER_COMMENT = 0x9286
EXIF_IFD = 0x8769


class ImageConfig(BaseModel):
    max_pixels: int = Field(100_000_000, gt=0, description="Largest image accepted (decompression-bomb guard)")


class ImageHandler:
    modality: ClassVar[str] = "image"
    name: ClassVar[str] = "synthgov.image"
    version: ClassVar[str] = "1"
    Config: ClassVar[type[BaseModel]] = ImageConfig

    def __init__(self, config: ImageConfig | None = None) -> None:
        self.config = config or ImageConfig()

    # -- sniffing and validation ---------------------------------------------------------------
    def accept(self, prefix: bytes) -> bool:
        return sniff(prefix) is not None

    def format_of(self, data: bytes) -> ImageFormat:
        if not data:
            raise CorruptMedia("file is empty (0 bytes)")
        fmt = sniff(data[:16])
        if fmt is None:
            raise UnsupportedMedia("not a JPEG, PNG, WebP, TIFF or GIF image")
        return fmt

    def _check_pixels(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise CorruptMedia(f"image header gives an impossible size {width}x{height}")
        if width * height > self.config.max_pixels:
            raise HostileInput(
                f"image is {width}x{height} = {width * height} pixels, over the {self.config.max_pixels}-pixel "
                "limit (decompression-bomb guard)"
            )

    def _info(self, fmt: ImageFormat, found: Scan) -> MediaInfo:
        """Size from the container header; the bomb guard runs here, before any decoding."""
        if found.width is None or found.height is None:
            raise CorruptMedia(f"{fmt} header gives no image size")
        self._check_pixels(found.width, found.height)
        return MediaInfo("image", fmt.value, fmt.media_type, fmt.extensions, found.width, found.height)

    def _open(self, data: bytes) -> Image.Image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise HostileInput(f"image dimensions are a decompression bomb: {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptMedia(f"image cannot be decoded: {exc}") from exc
        self._check_pixels(*im.size)
        return im

    def _scan(self, fmt: ImageFormat, data: bytes) -> Scan:
        try:
            return CONTAINERS[fmt].scan(data)
        except SynthgovError:
            raise
        except (IndexError, ValueError, KeyError) as exc:  # malformed structure we did not anticipate
            raise CorruptMedia(f"{fmt} structure is corrupt: {exc}") from exc

    def probe(self, data: bytes) -> MediaInfo:
        fmt = self.format_of(data)
        return self._info(fmt, self._scan(fmt, data))

    def examples(self) -> list[Example]:
        base = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
        out = []
        for fmt, kwargs in (
            (ImageFormat.JPEG, {"quality": 90}),
            (ImageFormat.PNG, {}),
            (ImageFormat.WEBP, {"lossless": True}),
            (ImageFormat.TIFF, {}),
            (ImageFormat.GIF, {}),
        ):
            buf = io.BytesIO()
            base.save(buf, fmt.value, **kwargs)
            out.append(Example(f"gradient.{fmt.extensions[0][1:]}", buf.getvalue(), fmt.extensions[0]))
        return out

    # -- metadata label ------------------------------------------------------------------------
    def read_labels(self, data: bytes) -> MetadataReport:
        fmt = self.format_of(data)
        found = self._scan(fmt, data)
        return self._report(self._info(fmt, found), found)

    def _report(self, info: MediaInfo, found: Scan) -> MetadataReport:
        report = MetadataReport(info=info, notes=list(found.notes))
        if len(found.xmp) > 1:
            report.problems.append(f"{len(found.xmp)} XMP packets in one file")
        for packet in found.xmp:
            values, notes = xmp.find_aigc(packet)
            report.notes.extend(notes)
            for value in values:
                parsed = parse_label_text(value.value)
                label = FoundLabel(f"{found.xmp_location} ({value.form})", parsed)
                if parsed.form is LabelForm.WRAPPED:
                    label.notes.append("XMP holds the wrapped {\"AIGC\":…} form; the guide writes the inner object")
                report.labels.append(label)
        for location, raw in found.text_labels:
            report.labels.append(FoundLabel(location, parse_label_text(raw)))
        for location, raw in self._exif_labels(found):
            report.labels.append(FoundLabel(location, parse_label_text(raw)))
        if len(report.labels) > 1:
            report.problems.append(
                f"{len(report.labels)} metadata labels in one file; GB 45438 6.1 c allows exactly one"
            )
        return report

    @staticmethod
    def _user_comment(raw: object) -> str | None:
        if isinstance(raw, bytes):
            prefix, body = raw[:8], raw[8:]
            if prefix.startswith(b"UNICODE"):
                encoding = "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"
                text = body.decode(encoding, "replace")
            else:
                text = (body if prefix in (b"ASCII\x00\x00\x00", b"\x00" * 8) else raw).decode("utf-8", "replace")
        elif isinstance(raw, str):
            text = raw
        else:
            return None
        text = text.strip("\x00 ")
        return text if "AIGC" in text else None

    @staticmethod
    def _exif(found: Scan) -> Image.Exif | None:
        """The EXIF block the container walk found, parsed without decoding any pixels."""
        if not found.exif:
            return None
        exif = Image.Exif()
        exif.load(found.exif)
        return exif

    def _exif_labels(self, found: Scan) -> list[tuple[str, str]]:
        try:
            exif = self._exif(found)
            if exif is None:
                return []
            places = [("EXIF UserComment (Exif IFD)", exif.get_ifd(EXIF_IFD).get(USER_COMMENT)),
                      ("EXIF UserComment (IFD0)", exif.get(USER_COMMENT))]
        except Exception as exc:  # noqa: BLE001 - Pillow raises many types on broken EXIF
            found.notes.append(f"EXIF block is unreadable: {exc}")
            return []
        return [(where, text) for where, raw in places if (text := self._user_comment(raw))]

    def _exif_without_label(self, found: Scan) -> bytes | None:
        """EXIF bytes with an Annex B UserComment label removed, or None when there is none."""
        try:
            exif = self._exif(found)
            if exif is None:
                return None
            ifd = exif.get_ifd(EXIF_IFD)
            changed = False
            if self._user_comment(ifd.get(USER_COMMENT)):
                del ifd[USER_COMMENT]
                changed = True
            if self._user_comment(exif.get(USER_COMMENT)):
                del exif[USER_COMMENT]
                changed = True
            return exif.tobytes()[6:] if changed else None
        except Exception as exc:  # noqa: BLE001
            raise CorruptMedia(f"EXIF block is unreadable: {exc}") from exc

    def write_label(self, data: bytes, label: AigcLabel, *, template: bytes | None = None) -> bytes:
        """Write ``label`` as the file's only metadata label.

        ``template`` is the file the content came from (before a visible label was drawn); its XMP
        properties are carried over so that re-encoding loses nothing.
        """
        fmt = self.format_of(data)
        found = self._scan(fmt, data)
        same = template is None or template is data
        source_scan = found if same else self._scan(self.format_of(template), template)
        info = self._info(fmt, found)
        base = source_scan.xmp[0] if source_scan.xmp else None
        packet = xmp.update_packet(base, label.to_json())
        exif = self._exif_without_label(found) if fmt is not ImageFormat.GIF else None
        out = CONTAINERS[fmt].write(data, packet, exif)
        check = self._report(info, self._scan(fmt, out))  # read back and fail closed
        if len(check.labels) != 1 or check.labels[0].parsed.to_label() != label:
            raise CorruptMedia("label did not read back as written; output discarded")
        return out

    # -- fingerprint -----------------------------------------------------------------------------
    def fingerprint(self, data: bytes) -> tuple[bytes, int | None]:
        """The PDQ hash of the image and its quality, as stored in generation records."""
        return self._decoding(lambda: fingerprint.pdq(data), data)

    def fingerprint_variants(self, data: bytes) -> list[bytes]:
        """PDQ hashes of the eight dihedral variants, for queries (rotated or mirrored copies)."""
        return self._decoding(lambda: fingerprint.pdq_dihedral(data), data)

    def distance(self, a: bytes, b: bytes) -> int:
        return fingerprint.distance(a, b)

    def _decoding(self, work, data: bytes):
        fmt = self.format_of(data)
        self._info(fmt, self._scan(fmt, data))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return work()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise HostileInput(f"image dimensions are a decompression bomb: {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptMedia(f"image cannot be decoded (truncated or corrupt): {exc}") from exc

    # -- explicit label ------------------------------------------------------------------------
    def _decoded(self, data: bytes) -> tuple[ImageFormat, Image.Image, list[Image.Image]]:
        fmt = self.format_of(data)
        self._info(fmt, self._scan(fmt, data))
        im = self._open(data)
        try:
            im.load()
            return fmt, im, encode.frames(im)
        except SynthgovError:
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptMedia(f"image cannot be decoded (truncated or corrupt): {exc}") from exc
        except MemoryError as exc:  # pragma: no cover
            raise TooLarge("image too large to decode in memory") from exc

    @staticmethod
    def _encoded(fmt: ImageFormat, im: Image.Image, frames: list[Image.Image], data: bytes) -> bytes:
        lossless = fmt is ImageFormat.WEBP and any(f == b"VP8L" for f, _ in webp.chunks(data))
        return encode.save(im, fmt, frames, lossless)

    def apply_explicit(self, data: bytes, spec: ExplicitLabelSpec) -> ExplicitResult:
        fmt, im, frames = self._decoded(data)
        geometry = visible.layout(im.size, spec.text, spec.position, spec.height_ratio)
        labeled = [encode.back_to_mode(visible.draw_label(f, spec.text, geometry), f.mode) for f in frames]
        geometry["text"] = spec.text
        return ExplicitResult(self._encoded(fmt, im, labeled, data), geometry)

    # -- watermark -------------------------------------------------------------------------------
    def embed_watermark(self, data: bytes, payload: int, key: bytes) -> bytes:
        fmt, im, frames = self._decoded(data)
        if len(frames) > 1:
            raise WatermarkUnsupported("animated images are not watermarked yet")
        frame = frames[0]
        try:
            marked = watermark.embed(frame.convert("RGBA" if "A" in frame.mode else "RGB"), key, payload)
        except watermark.Unmarkable as exc:
            raise WatermarkUnsupported(str(exc)) from exc
        return self._encoded(fmt, im, [encode.back_to_mode(marked, frame.mode)], data)

    def detect_watermark(self, data: bytes, key: bytes) -> WatermarkReading | None:
        fmt, im, frames = self._decoded(data)
        try:
            found = watermark.detect(frames[0], key)
        except watermark.TooSmall as exc:
            raise WatermarkUnsupported(str(exc)) from exc
        if found is None:
            return None
        return WatermarkReading(found.payload, found.confidence,
                                {"scale": found.scale, "rotation_deg": found.rotation_deg, "mirrored": found.mirrored,
                                 "margin": found.bit_margin})
