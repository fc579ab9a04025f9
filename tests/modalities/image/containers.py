"""What every container module promises, checked on the module itself (not through the handler):
each ``test_<format>.py`` subclasses :class:`ContainerContract` and adds its format's structure."""

import io

import numpy as np
import pytest
from PIL import Image

from synthgov.errors import SynthgovError
from synthgov.modalities.image import xmp

PACKET = xmp.new_packet('{"Label":"1","ContentProducer":"0011910000000000DEM00L10001","ProduceID":"c"}')


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))


class ContainerContract:
    module = None  # the container module under test
    sample = ""  # a key of the ``samples`` fixture

    @pytest.fixture
    def data(self, samples) -> bytes:
        return samples[self.sample]

    def test_scan_reads_the_size_from_the_header(self, data):
        found = self.module.scan(data)
        with Image.open(io.BytesIO(data)) as im:
            assert (found.width, found.height) == im.size

    def test_write_puts_exactly_one_packet_and_keeps_pixels(self, data):
        once = self.module.write(data, PACKET)
        twice = self.module.write(once, PACKET)
        assert self.module.scan(twice).xmp == [PACKET]
        assert np.array_equal(pixels(twice), pixels(data))

    def test_truncated_input_is_a_domain_error(self, data):
        for cut in (len(data) // 3, 20):
            with pytest.raises(SynthgovError):
                self.module.write(data[:cut], PACKET)
