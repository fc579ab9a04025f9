"""The PNG container: iTXt XML:com.adobe.xmp (uncompressed), CRCs, Annex B text labels."""

import struct
import zlib

import pytest

from synthgov.errors import CorruptMedia
from synthgov.modalities.image import png
from tests.modalities.image.containers import PACKET, ContainerContract


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


class TestPng(ContainerContract):
    module = png
    sample = "photo.png"

    def test_xmp_is_an_uncompressed_itxt_before_idat_with_a_valid_crc(self, data):
        out = png.write(data, PACKET)
        kinds = [c[0] for c in png.chunks(out)]
        assert kinds.index(b"iTXt") < kinds.index(b"IDAT")
        (itxt,) = [c for c in png.chunks(out) if c[0] == b"iTXt"]
        assert itxt[1].startswith(b"XML:com.adobe.xmp\x00\x00\x00")  # compression flag 0

    def test_text_labels_are_read_and_replaced(self, data):
        ihdr_end = 8 + 25
        text = chunk(b"tEXt", b'AIGC\x00{"AIGC":{"Label":"1"}}')
        ztxt = chunk(b"zTXt", b"AIGC\x00\x00" + zlib.compress(b'{"Label":"2"}'))
        labeled = data[:ihdr_end] + text + ztxt + data[ihdr_end:]
        found = png.scan(labeled)
        assert [t.location for t in found.text_labels] == ["PNG tEXt AIGC", "PNG zTXt AIGC"]
        assert png.scan(png.write(labeled, PACKET)).text_labels == []

    def test_bad_crc_is_refused(self, data):
        broken = bytearray(data)
        broken[29] ^= 0xFF  # inside the IHDR CRC
        with pytest.raises(CorruptMedia):
            png.scan(bytes(broken))


def _raw(name: bytes, text: bytes, ctype: bytes = b"zTXt") -> bytes:
    body = b"Raw profile type " + name + b"\x00" + (b"\x00" + zlib.compress(text) if ctype == b"zTXt" else text)
    return chunk(ctype, body)


def _hexed(profile: bytes, declared: int | None = None) -> bytes:
    digits = profile.hex()
    lines = "\n".join(digits[i : i + 72] for i in range(0, len(digits), 72))
    return f"\nxmp\n{len(profile) if declared is None else declared:8d}\n{lines}\n".encode()


@pytest.mark.parametrize("ctype", [b"zTXt", b"tEXt"])
def test_an_imagemagick_raw_xmp_profile_is_read_leniently_and_named(samples, ctype):
    data = samples["photo.png"]
    labeled = data[:33] + _raw(b"xmp", _hexed(PACKET), ctype) + data[33:]
    found = png.scan(labeled, lenient=True)
    (stray,) = found.stray_xmp
    assert stray.packet == PACKET and "raw profile" in stray.location and "raw XMP profile" in stray.problem
    assert not found.damage
    assert png.scan(labeled).stray_xmp == []  # a strict walk (labeling) takes it as any other text chunk


@pytest.mark.parametrize("text, says", [
    (b"\nxmp\n      12\n3c3f78zz\n", "not an ImageMagick raw profile"),  # not hex
    (b"\nxmp\n", "not an ImageMagick raw profile"),  # no length, no digits
    (b"\nxmp\nmany\n3c3f\n", "not an ImageMagick raw profile"),  # the length is not a number
    (b"\nxmp\n     999\n3c3f\n", "says 999 bytes but holds 2"),
])
def test_a_broken_raw_profile_is_named_and_the_rest_is_still_read(samples, text, says):
    data = samples["photo.png"]
    label = chunk(b"tEXt", b'AIGC\x00{"AIGC":{"Label":"1"}}')
    found = png.scan(data[:33] + _raw(b"xmp", text) + label + data[33:], lenient=True)
    assert any(says in d for d in found.damage)
    assert [t.location for t in found.text_labels] == ["PNG tEXt AIGC"]


def test_a_raw_profile_bomb_is_refused(samples):
    from synthgov.errors import HostileInput

    data = samples["photo.png"]
    bomb = _raw(b"xmp", b"\nxmp\n 9999999\n" + b"00" * (png.MAX_TEXT // 2 + 8))
    with pytest.raises(HostileInput):
        png.scan(data[:33] + bomb + data[33:], lenient=True)
