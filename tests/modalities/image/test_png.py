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
