"""The WebP container: an ``XMP `` chunk and the VP8X flag; simple files are promoted to VP8X."""

from synthgov.modalities.image import webp
from tests.modalities.image.containers import PACKET, ContainerContract


class TestWebpLossy(ContainerContract):
    module = webp
    sample = "lossy.webp"

    def test_vp8x_flags_xmp_and_the_riff_size_is_right(self, data):
        out = webp.write(data, PACKET)
        chunks = webp.chunks(out)
        assert chunks[0][0] == b"VP8X" and chunks[0][1][0] & 0x04  # XMP flag
        assert [c[0] for c in chunks].count(b"XMP ") == 1
        assert int.from_bytes(out[4:8], "little") == len(out) - 8


class TestWebpSimpleLossless(ContainerContract):
    module = webp
    sample = "lossless.webp"

    def test_a_simple_file_is_promoted_to_vp8x(self, data):
        assert webp.chunks(data)[0][0] == b"VP8L"
        out = webp.write(data, PACKET)
        assert [c[0] for c in webp.chunks(out)][:2] == [b"VP8X", b"VP8L"]
