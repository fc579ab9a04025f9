"""Hostile and broken images: a clear error from the handler, whatever the damage."""

import contextlib
import struct
import zlib

import pytest

from synthgov.errors import CorruptMedia, HostileInput, SynthgovError, UnsupportedMedia
from synthgov.modalities.base import ExplicitLabelSpec
from synthgov.modalities.image import ImageHandler, xmp
from synthgov.provenance.label import AigcLabel

handler = ImageHandler()
LABEL = AigcLabel.first_write(label="1", producer="0011910000000000DEM00L10001", produce_id="x")


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def bomb_png(width=30000, height=30000) -> bytes:
    """A 30000x30000 PNG header over a tiny compressed body: 900 megapixels claimed."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol3;</x:xmpmeta>'
)


def with_xmp(samples, packet: bytes) -> bytes:
    data = samples["photo.png"]
    idat = data.index(b"IDAT") - 4
    return data[:idat] + png_chunk(b"iTXt", b"XML:com.adobe.xmp" + b"\x00" * 5 + packet) + data[idat:]


def ops():
    return [
        lambda d: handler.read_labels(d),
        lambda d: handler.write_label(d, LABEL),
        lambda d: handler.apply_explicit(d, ExplicitLabelSpec("AI生成")),
    ]


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "lossy.webp", "photo.tif", "photo.gif", "progressive.jpg"])
@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated(samples, name, keep):
    """Labeling refuses a truncated file; reading reports the damage (and any label before it)."""
    data = samples[name][: int(len(samples[name]) * keep)]
    for op in ops()[1:]:
        with pytest.raises(SynthgovError):
            op(data)
    report = handler.read_labels(data)
    assert any(p.startswith("container damaged: ") and "truncated" in p for p in report.problems), report.problems


def test_zero_bytes_and_not_an_image():
    for op in ops():
        with pytest.raises(CorruptMedia, match="empty"):
            op(b"")
        with pytest.raises(UnsupportedMedia):
            op(b"%PDF-1.7 this is not an image" * 10)


def test_decompression_bomb_is_refused_before_decoding():
    for op in ops():
        with pytest.raises(HostileInput, match="decompression"):
            op(bomb_png())


def test_configured_pixel_limit():
    small = ImageHandler(ImageHandler.Config(max_pixels=1000))
    with pytest.raises(HostileInput, match="1000-pixel limit"):
        small.read_labels(bomb_png(100, 100))


def test_xmp_entity_expansion_is_refused(samples):
    data = with_xmp(samples, BILLION_LAUGHS)
    for op in ops()[:2]:
        with pytest.raises(HostileInput, match="entity"):
            op(data)


def test_huge_and_malformed_xmp(samples):
    huge = xmp.new_packet("x" * (xmp.MAX_PACKET + 10))
    with pytest.raises(HostileInput, match="exceeds"):
        handler.read_labels(with_xmp(samples, huge))
    with pytest.raises(CorruptMedia, match="well-formed"):  # labeling keeps the packet: it must be sound
        handler.write_label(with_xmp(samples, b"<x:xmpmeta><unclosed>"), LABEL)
    report = handler.read_labels(with_xmp(samples, b"<x:xmpmeta><unclosed>"))  # reading: leniently
    assert any(p.startswith("container damaged: XMP packet is not well-formed") for p in report.problems)


def test_png_text_bomb_is_refused(samples):
    bomb = b"AIGC\x00\x00" + zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    data = samples["photo.png"]
    idat = data.index(b"IDAT") - 4
    with pytest.raises(HostileInput, match="decompression bomb"):
        handler.read_labels(data[:idat] + png_chunk(b"zTXt", bomb) + data[idat:])


def test_corrupt_crc_and_random_bytes(samples):
    data = bytearray(samples["photo.png"])
    data[40] ^= 0xFF
    with pytest.raises(CorruptMedia):
        handler.write_label(bytes(data), LABEL)
    assert any("bad CRC" in p for p in handler.read_labels(bytes(data)).problems)
    rng = __import__("random").Random(7)
    for prefix in (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x10WEBP", b"II*\x00", b"GIF89a"):
        for _ in range(20):
            blob = prefix + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
            for op in ops()[1:]:
                with pytest.raises(SynthgovError):
                    op(blob)
            with contextlib.suppress(SynthgovError):  # reading garbage: a report naming the damage, or a refusal
                assert any(p.startswith("container damaged") for p in handler.read_labels(blob).problems)
