"""Fuzz targets: every parser synthgov writes itself, with the errors it may raise.

A target gets arbitrary bytes; it must return or raise one of its ``allowed`` errors (a clear,
typed refusal). Anything else (IndexError, struct.error, RecursionError, MemoryError, a hang) is a
defect. Used by ``python -m fuzz`` (coverage-guided, atheris) and by tests/test_fuzz_corpus.py,
which replays the kept corpus and a short seeded mutation run in ``make test``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    seeds: Callable[[], list[bytes]]


def _errors() -> tuple[type[BaseException], ...]:
    from synthgov.audit.notes import NoteError
    from synthgov.errors import SynthgovError

    return (SynthgovError, NoteError)


def _images(fmt: str) -> list[bytes]:
    from PIL import Image

    from synthgov.modalities.base import LabelPlan
    from synthgov.modalities.image import ImageHandler
    from synthgov.provenance.label import AigcLabel

    base = Image.linear_gradient("L").resize((24, 16)).convert("RGB")
    buf = io.BytesIO()
    base.save(buf, fmt)
    plain = buf.getvalue()
    label = AigcLabel.first_write(label="1", producer="0011910000000000DEM00L10001", produce_id="fuzz")
    labeled = ImageHandler().label(plain, LabelPlan(metadata=label)).data
    return [plain, labeled]


def _container(module: str) -> Callable[[bytes], object]:
    def run(data: bytes) -> object:
        import contextlib
        import importlib

        from synthgov.errors import SynthgovError

        scan = importlib.import_module(f"synthgov.modalities.image.{module}").scan
        with contextlib.suppress(SynthgovError):
            scan(data)  # strict, as labeling walks
        return scan(data, True)  # lenient, as reading walks

    return run


def _heif(data: bytes) -> object:
    """The ISOBMFF walk, strict and lenient, and the writer (it rewrites boxes and offsets)."""
    import contextlib

    from synthgov.errors import SynthgovError
    from synthgov.modalities.image import heif, xmp

    with contextlib.suppress(SynthgovError):
        heif.scan(data, True)
    with contextlib.suppress(SynthgovError):
        heif.scan(data)
    return heif.write(data, xmp.new_packet('{"Label":"1"}'))


def _with_good_crcs(data: bytes) -> bytes:
    """Recompute every PNG chunk's CRC, so mutations get past the CRC check to the code behind it
    (a CRC is the classic wall in front of a fuzzer)."""
    import struct
    import zlib

    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out, pos = bytearray(data[:8]), 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        end = pos + 12 + length
        if end > len(data):
            out += data[pos:]
            break
        ctype, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        out += data[pos:pos + 8 + length] + struct.pack(">I", zlib.crc32(ctype + body))
        pos = end
    else:
        out += data[pos:]
    return bytes(out)


def _png(data: bytes) -> object:
    from synthgov.modalities.image import png

    return png.scan(_with_good_crcs(data))


def _read_labels(data: bytes) -> object:
    from synthgov.modalities.image import ImageHandler

    return ImageHandler().read_labels(_with_good_crcs(data))


def _xmp(data: bytes) -> object:
    from synthgov.modalities.image.xmp import find_aigc

    return find_aigc(data)


def _xmp_seeds() -> list[bytes]:
    from synthgov.modalities.image.xmp import new_packet

    return [new_packet('{"Label":"1","ContentProducer":"x","ProduceID":"y"}'), b"<x:xmpmeta/>"]


def _exif(data: bytes) -> object:
    from synthgov.modalities.image import metadata
    from synthgov.modalities.image.formats import Scan

    return metadata.exif_labels(Scan(exif=data, lenient=True))


def _exif_seeds() -> list[bytes]:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "SynthCam"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + b'{"AIGC":{"Label":"1"}}'
    return [exif.tobytes()]


def _label_json(data: bytes) -> object:
    from synthgov.provenance.label import parse_label_text

    return parse_label_text(data.decode("utf-8", "replace"))


def _note(data: bytes) -> object:
    from synthgov.audit.notes import Checkpoint, parse_note

    note = parse_note(data)
    return Checkpoint.from_text(note.text)


def _note_seeds() -> list[bytes]:
    return [b"example.com/log\n3\n" + b"A" * 43 + b"=\n\n\xe2\x80\x94 example.com/log AAAAAAAAAA==\n"]


def _witness_body(data: bytes) -> object:
    from synthgov.audit.witness import _parse

    return _parse(data)


TARGETS = {t.name: t for t in (
    Target("jpeg", _container("jpeg"), (), lambda: _images("JPEG")),
    Target("png", _png, (), lambda: _images("PNG")),
    Target("webp", _container("webp"), (), lambda: _images("WEBP")),
    Target("tiff", _container("tiff"), (), lambda: _images("TIFF")),
    Target("gif", _container("gif"), (), lambda: _images("GIF")),
    Target("heif", _heif, (), lambda: _images("AVIF")),
    Target("read_labels", _read_labels, (), lambda: _images("PNG") + _images("JPEG") + _images("AVIF")),
    Target("xmp", _xmp, (), _xmp_seeds),
    Target("exif", _exif, (), _exif_seeds),
    Target("label_json", _label_json, (), lambda: [b'{"Label":"1","ContentProducer":"a","ProduceID":"b"}']),
    Target("checkpoint_note", _note, (), _note_seeds),
    Target("witness_request", _witness_body, (), lambda: [b"old 0\n\n" + _note_seeds()[0]]),
)}


def check(target: Target, data: bytes) -> None:
    """Run one input: a clean result or an allowed refusal passes; anything else propagates."""
    import contextlib

    with contextlib.suppress(*(target.allowed or _errors())):
        target.run(data)
