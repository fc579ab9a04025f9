"""The TIFF container: IFD0 tag 700 (XMP, type UNDEFINED per the TC260 guide) via an appended IFD."""

import struct

from synthgov.modalities.image import tiff
from tests.modalities.image.containers import PACKET, ContainerContract


class TestTiff(ContainerContract):
    module = tiff
    sample = "photo.tif"

    def test_tag_700_is_written_and_the_original_bytes_stay_in_place(self, data):
        out = tiff.write(data, PACKET)
        assert out[8 : len(data)] == data[8:]  # appended, nothing moved (only the IFD0 offset changes)
        bo = "<" if out[:2] == b"II" else ">"
        (ifd0,) = struct.unpack(bo + "I", out[4:8])
        (count,) = struct.unpack(bo + "H", out[ifd0 : ifd0 + 2])
        tags = {struct.unpack(bo + "HH", out[ifd0 + 2 + 12 * i : ifd0 + 6 + 12 * i]) for i in range(count)}
        assert (700, 7) in tags
