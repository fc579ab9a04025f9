"""The JPEG container: APP1 XMP and EXIF segments, entropy-coded data copied verbatim."""

import pytest

from synthgov.errors import CorruptMedia, InvalidInput
from synthgov.modalities.image import jpeg
from tests.modalities.image.containers import PACKET, ContainerContract


class TestJpeg(ContainerContract):
    module = jpeg
    sample = "photo.jpg"

    def test_xmp_goes_after_app0_and_exif_and_scan_data_is_untouched(self, data):
        out = jpeg.write(data, PACKET)
        segments, rest = jpeg.split(out)
        assert [s.marker for s in segments[:3]] == [0xE0, 0xE1, 0xE1]
        assert segments[1].payload.startswith(jpeg.EXIF_ID) and segments[2].payload.startswith(jpeg.XMP_ID)
        assert rest == jpeg.split(data)[1]

    def test_exif_is_replaced_when_given(self, data):
        out = jpeg.write(data, PACKET, exif=b"MM\x00*\x00\x00\x00\x08\x00\x00")
        assert jpeg.scan(out).exif == b"MM\x00*\x00\x00\x00\x08\x00\x00"

    def test_oversized_packet_and_missing_soi(self, data):
        with pytest.raises(InvalidInput, match="too large for one JPEG APP1"):
            jpeg.write(data, b"x" * 70_000)
        with pytest.raises(CorruptMedia, match="no SOI"):
            jpeg.scan(b"\x00" + data)

    def test_a_label_in_another_segment_is_reported_as_non_standard(self, data):
        app11 = b"\xff\xeb" + (len(b'AIGC{"Label":"1"}') + 2).to_bytes(2, "big") + b'AIGC{"Label":"1"}'
        found = jpeg.scan(data[:2] + app11 + data[2:])
        assert [(t.location, t.raw) for t in found.text_labels] == [("JPEG APP11 segment (non-standard)",
                                                                     'AIGC{"Label":"1"}')]
        assert found.text_labels[0].problem == "label in a JPEG APP11 segment, not in XMP or EXIF UserComment"
