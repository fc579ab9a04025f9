"""The image handler: JPEG, PNG, WebP, TIFF, GIF, AVIF and HEIF.

One labeling is one pass (:meth:`ImageHandler.label`): the container is walked once, the pixels
are decoded at most once (only when a watermark or visible label changes them, or to fingerprint
metadata-only output), watermark and visible label are applied in memory, the result is encoded
once, the metadata label is written into the encoded container, read back, and checked.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import ClassVar, TypeVar

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from synthgov.errors import CorruptMedia, HostileInput, SynthgovError, TooLarge, UnsupportedMedia, WatermarkUnsupported
from synthgov.modalities.base import (
    Applied,
    Example,
    ExplicitLabelSpec,
    Fingerprint,
    FormatInfo,
    Labeled,
    LabelKind,
    LabelPlan,
    MediaInfo,
    MetadataReport,
    WatermarkReading,
)
from synthgov.modalities.image import encode, fingerprint, gif, heif, jpeg, metadata, png, tiff, visible, webp, xmp
from synthgov.modalities.image.formats import ALL_IMAGE_EXTENSIONS, METADATA_LIMIT, ImageFormat, Scan, sniff
from synthgov.modalities.image.watermark import SCHEME, ImageWatermark, ImageWatermarkConfig, Unmarkable
from synthgov.provenance.label import AigcLabel
from synthgov.watermarking.scheme import MarkStrength, TooSmall

T = TypeVar("T")
CONTAINERS = {
    ImageFormat.JPEG: jpeg,
    ImageFormat.PNG: png,
    ImageFormat.WEBP: webp,
    ImageFormat.TIFF: tiff,
    ImageFormat.GIF: gif,
    ImageFormat.AVIF: heif,
    ImageFormat.HEIF: heif,
}


class ImageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_pixels: int = Field(32_000_000, gt=0, description="Largest image accepted (decompression-bomb guard)")
    max_frames: int = Field(1000, gt=0, description="Most animation frames or TIFF pages accepted")
    max_decoded_pixels: int = Field(32_000_000, gt=0, description="Most pixels decoding all frames and pages may "
                                    "produce (a canvas per animation frame): bounds memory per input")
    max_metadata_bytes: int = Field(16 * 1024 * 1024, gt=0, description="Most XMP, EXIF and text (inflated) accepted")
    max_parts: int = Field(20_000, gt=0, description="Most chunks, segments or blocks a container may have")
    watermark: ImageWatermarkConfig = Field(default_factory=ImageWatermarkConfig,
                                            description="The image watermark's tuning (docs/watermark.md)")


class ImageHandler:
    modality: ClassVar[str] = "image"
    name: ClassVar[str] = "synthgov.image"
    version: ClassVar[str] = "1"
    Config: ClassVar[type[BaseModel]] = ImageConfig
    watermark_scheme: ClassVar[str] = SCHEME
    all_extensions: ClassVar[tuple[str, ...]] = tuple(ALL_IMAGE_EXTENSIONS)

    def __init__(self, config: ImageConfig | None = None) -> None:
        self.config = config or ImageConfig()
        self.scheme = ImageWatermark(self.config.watermark)

    def warm_up(self) -> None:
        """Load what marking, reading marks and fingerprints need (numpy, SciPy, the embedder and
        the detector load on first use, so metadata-only commands start without them): a server
        calls this at start, so that no request pays for the imports."""
        from importlib import import_module

        for module in ("embedding", "detection"):
            import_module(f"synthgov.modalities.image.watermark.{module}")
        import numpy  # noqa: F401 - the fingerprint and the visible label's ink measure

    # -- sniffing and validation ---------------------------------------------------------------
    def accept(self, prefix: bytes) -> bool:
        return sniff(prefix) is not None

    def format_of(self, data: bytes) -> ImageFormat:
        if not data:
            raise CorruptMedia("file is empty (0 bytes)")
        fmt = sniff(data[:64])
        if fmt is None:
            raise UnsupportedMedia("not a JPEG, PNG, WebP, TIFF, GIF, AVIF or HEIF image")
        return fmt

    def format_info(self, prefix: bytes) -> FormatInfo:
        fmt = self.format_of(prefix)
        return FormatInfo(self.modality, fmt.value, fmt.media_type, fmt.extensions)

    def _check_pixels(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise CorruptMedia(f"image header gives an impossible size {width}x{height}")
        if width * height > self.config.max_pixels:
            raise HostileInput(
                f"image is {width}x{height} = {width * height} pixels, over the {self.config.max_pixels}-pixel "
                "limit (decompression-bomb guard)"
            )

    def _info(self, fmt: ImageFormat, found: Scan) -> MediaInfo:
        """Size from the container header; the bomb guards run here, before any decoding: every
        page's size, the frame count, the pixels all frames decode to, the metadata and the parts.
        A lenient walk of a damaged container may have found no size: reading goes on without one."""
        if found.width is None or found.height is None:
            if not found.lenient:
                raise CorruptMedia(f"{fmt} header gives no image size")
        else:
            self._check_pixels(found.width, found.height)
        cfg = self.config
        for number, (w, h) in enumerate(found.frame_sizes[1:], 2):
            try:
                self._check_pixels(w, h)
            except HostileInput as exc:
                raise HostileInput(f"page {number}: {exc}") from exc
        what = "pages" if found.frame_sizes else "frames"
        if found.frames > cfg.max_frames:
            raise HostileInput(f"image has {found.frames} {what}, over the limit of {cfg.max_frames}")
        if found.decoded_pixels > cfg.max_decoded_pixels:
            raise HostileInput(f"decoding its {found.frames} {what} would make {found.decoded_pixels} pixels, over the "
                               f"{cfg.max_decoded_pixels}-pixel limit (max_decoded_pixels)")
        if found.metadata_bytes > cfg.max_metadata_bytes:
            raise HostileInput(f"image holds {found.metadata_bytes} bytes of metadata, over the "
                               f"{cfg.max_metadata_bytes}-byte limit")
        if found.parts > cfg.max_parts:
            raise HostileInput(f"{fmt} has {found.parts} chunks or segments, over the limit of {cfg.max_parts}")
        return MediaInfo("image", fmt.value, fmt.media_type, fmt.extensions, found.width, found.height)

    def _scan(self, fmt: ImageFormat, data: bytes, lenient: bool = False) -> Scan:
        """The container walk: strict for labeling (damage refuses the file), ``lenient`` for reading
        (damage is reported and the walk goes on where it can; the limits hold either way)."""
        token = METADATA_LIMIT.set(self.config.max_metadata_bytes)
        try:
            return CONTAINERS[fmt].scan(data, lenient)
        except SynthgovError:
            raise
        except (IndexError, ValueError, KeyError) as exc:  # malformed structure we did not anticipate
            raise CorruptMedia(f"{fmt} structure is corrupt: {exc}") from exc
        finally:
            METADATA_LIMIT.reset(token)

    def _walk(self, data: bytes, lenient: bool = False) -> tuple[ImageFormat, Scan, MediaInfo]:
        fmt = self.format_of(data)
        found = self._scan(fmt, data, lenient)
        return fmt, found, self._info(fmt, found)

    def probe(self, data: bytes) -> MediaInfo:
        return self._walk(data)[2]

    def examples(self) -> list[Example]:
        base = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
        out = []
        for fmt, kwargs in (
            (ImageFormat.JPEG, {"quality": 90}),
            (ImageFormat.PNG, {}),
            (ImageFormat.WEBP, {"lossless": True}),
            (ImageFormat.TIFF, {}),
            (ImageFormat.GIF, {}),
            (ImageFormat.AVIF, {"quality": 90}),
        ):
            buf = io.BytesIO()
            base.save(buf, fmt.value, **kwargs)
            out.append(Example(f"gradient.{fmt.extensions[0][1:]}", buf.getvalue(), fmt.extensions[0]))
        return out

    # -- decoding, guarded ---------------------------------------------------------------------
    def _guarded(self, work: Callable[[], T], what: str = "decoded") -> T:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return work()
        except SynthgovError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise HostileInput(f"image dimensions are a decompression bomb: {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptMedia(f"image cannot be {what} (truncated or corrupt): {exc}") from exc
        except MemoryError as exc:  # pragma: no cover
            raise TooLarge("image too large to decode in memory") from exc

    @staticmethod
    def _codecs(data: bytes) -> None:
        """Pillow decodes every format but HEIF itself (pillow-heif, registered when first needed)."""
        if sniff(data[:64]) is ImageFormat.HEIF:
            encode.heif_codec()

    def _decode(self, data: bytes) -> tuple[Image.Image, list[Image.Image]]:
        self._codecs(data)

        def work() -> tuple[Image.Image, list[Image.Image]]:
            im = Image.open(io.BytesIO(data))
            self._check_pixels(*im.size)
            im.load()
            return im, encode.frames(im)

        return self._guarded(work)

    # -- labeling: one pass --------------------------------------------------------------------
    def label(self, data: bytes, plan: LabelPlan) -> Labeled:
        fmt, found, info = self._walk(data)
        applied: list[Applied] = []
        geometry = None
        fp = None
        scheme = None
        strength = None
        body, body_scan = data, found
        if plan.changes_content:
            im, frames = self._decode(data)
            if plan.watermark is not None:
                frames, note, report = self._watermark(frames, plan.watermark.payload, plan.watermark.key)
                applied.append(Applied(LabelKind.WATERMARK, "keyed-ss-v2", note))
                scheme = None if note else SCHEME
                strength = report.to_dict() if report else None
            if plan.explicit is not None:
                geometry = visible.layout(im.size, plan.explicit.text, plan.explicit.position,
                                          plan.explicit.height_ratio)
                frames = [encode.back_to_mode(visible.draw_label(f, plan.explicit.text, geometry), f.mode)
                          for f in frames]
                geometry["text"] = plan.explicit.text
                applied.append(Applied(LabelKind.EXPLICIT, "visible-text"))
            lossless = fmt is ImageFormat.WEBP and any(f == b"VP8L" for f, _ in webp.chunks(data))
            body = self._guarded(lambda: encode.save(im, fmt, frames, lossless), "encoded")
            body_scan = self._scan(fmt, body)
            if plan.fingerprint:
                fp = Fingerprint(*fingerprint.pdq_image(frames[0]))
        elif plan.fingerprint:  # metadata only: one reduced decode for the record's fingerprint
            self._codecs(data)
            fp = Fingerprint(*self._guarded(lambda: fingerprint.pdq(data)))
        if plan.metadata is not None:
            body = self._write_metadata(fmt, body, body_scan, plan.metadata, source=found)
            applied.append(Applied(LabelKind.METADATA, "xmp-tc260"))
        return Labeled(body, info, tuple(applied), geometry, fp, scheme, strength)

    def _watermark(self, frames: list[Image.Image], payload: int,
                   key: bytes) -> tuple[list[Image.Image], str | None, MarkStrength | None]:
        if len(frames) > 1:
            return frames, "animated images are not watermarked yet", None
        frame = frames[0]
        try:
            marked, report = self.scheme.embed_reported(frame.convert("RGBA" if "A" in frame.mode else "RGB"), key,
                                                        payload)
        except Unmarkable as exc:
            return frames, str(exc), None
        return [encode.back_to_mode(marked, frame.mode)], None, report

    def _write_metadata(self, fmt: ImageFormat, data: bytes, found: Scan, label: AigcLabel, *, source: Scan) -> bytes:
        """Write ``label`` as the file's only metadata label; ``source`` is the walk of the file the
        content came from, whose XMP properties are carried over (re-encoding loses nothing)."""
        info = self._info(fmt, found)
        packet = xmp.update_packet(source.xmp[0] if source.xmp else None, label.to_json())
        exif = metadata.exif_without_label(found) if fmt is not ImageFormat.GIF else None
        out = CONTAINERS[fmt].write(data, packet, exif)
        check = metadata.report(info, self._scan(fmt, out))  # read back and fail closed
        placed = [found for found in check.labels if not found.placement]  # in the places the guide names
        if len(placed) != 1 or placed[0].parsed.to_label() != label:
            raise CorruptMedia("label did not read back as written; output discarded")
        return out

    def write_label(self, data: bytes, label: AigcLabel) -> bytes:
        """``data`` carrying exactly one metadata label (update, never append); pixels untouched."""
        return self.label(data, LabelPlan(metadata=label)).data

    def apply_explicit(self, data: bytes, spec: ExplicitLabelSpec) -> Labeled:
        """``data`` with the visible label drawn (and no metadata label): one decode, one encode."""
        return self.label(data, LabelPlan(explicit=spec))

    # -- reading -------------------------------------------------------------------------------
    def read_labels(self, data: bytes) -> MetadataReport:
        """Every label, read leniently: a damaged container still yields what it holds, with each
        damage a "container damaged" problem (only labeling refuses damaged input)."""
        fmt, found, info = self._walk(data, lenient=True)
        return metadata.report(info, found)

    def detect_watermark(self, data: bytes, key: bytes) -> WatermarkReading | None:
        self._walk(data)
        _, frames = self._decode(data)
        try:
            found = self.scheme.detect(frames[0], key)
        except TooSmall as exc:
            raise WatermarkUnsupported(str(exc)) from exc
        if found is None:
            return None
        return WatermarkReading(SCHEME, found.payload, found.confidence, found.detail)

    # -- fingerprint -----------------------------------------------------------------------------
    def fingerprint(self, data: bytes) -> Fingerprint:
        """The PDQ hash of the image and its quality, as stored in generation records."""
        self._walk(data)
        self._codecs(data)
        return Fingerprint(*self._guarded(lambda: fingerprint.pdq(data)))

    def fingerprint_variants(self, data: bytes) -> list[bytes]:
        """PDQ hashes of the eight dihedral variants, for queries (rotated or mirrored copies)."""
        self._walk(data)
        self._codecs(data)
        return self._guarded(lambda: fingerprint.pdq_dihedral(data))
