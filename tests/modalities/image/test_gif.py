"""The GIF container: the XMP application extension with its 258-byte magic trailer."""

import pytest

from synthgov.errors import CorruptMedia
from synthgov.modalities.image import gif
from tests.modalities.image.containers import PACKET, ContainerContract


class TestGif(ContainerContract):
    module = gif
    sample = "photo.gif"

    def test_application_extension_and_trailer(self, data):
        out = gif.write(data, PACKET)
        assert out.startswith(b"GIF89a") and gif.XMP_APP in out
        start = out.index(gif.XMP_APP) + len(gif.XMP_APP) + len(PACKET)
        assert out[start : start + len(gif.MAGIC_TRAILER)] == gif.MAGIC_TRAILER

    def test_nul_in_packet_and_unknown_blocks_are_refused(self, data):
        with pytest.raises(CorruptMedia, match="NUL"):
            gif.write(data, PACKET + b"\x00")
        header_end, _ = gif.blocks(data)
        with pytest.raises(CorruptMedia, match="unknown block"):
            gif.scan(data[:header_end] + b"\x99" + data[header_end:])
