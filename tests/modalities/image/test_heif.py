"""AVIF and HEIF (ISOBMFF): the XMP ``mime`` item and the ``Exif`` item read from ``meta`` without
decoding, and the label written without re-encoding (a new XMP item, every offset behind ``meta``
moved), checked by libavif/libheif (Pillow, pillow-heif) and exiftool."""

import contextlib
import io
import struct
import subprocess

import numpy as np
import pytest
from PIL import Image

from synthgov.errors import CorruptMedia, SynthgovError, UnsupportedMedia
from synthgov.modalities.image import ImageHandler, heif, xmp
from synthgov.provenance.label import AigcLabel
from tests.modalities.image.containers import PACKET, ContainerContract

LABEL = AigcLabel.first_write(label="1", producer="001191110102MACQD9K64010000", produce_id="heif-1")
handler = ImageHandler()


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


class TestAvif(ContainerContract):
    module = heif
    sample = "photo.avif"

    def test_the_item_is_where_libavif_and_exiftool_read_it(self, data, exiftool, tmp_path):
        out = heif.write(data, PACKET)
        with Image.open(io.BytesIO(out)) as im:
            assert im.info["xmp"] == PACKET  # libavif finds the item through iinf/iloc
        (tmp_path / "out.avif").write_bytes(out)
        seen = subprocess.run([exiftool, "-s3", "-XMP-TC260:AIGC", "-Warning", str(tmp_path / "out.avif")],
                              capture_output=True, text=True).stdout.strip()
        assert seen == '{"Label":"1","ContentProducer":"0011910000000000DEM00L10001","ProduceID":"c"}'


class TestHeic(ContainerContract):
    module = heif
    sample = "photo.heic"

    def test_exif_is_read_from_the_exif_item(self, data):
        assert heif.scan(data).exif.startswith((b"II*\x00", b"MM\x00*"))


@pytest.mark.parametrize("name", ["photo.avif", "photo.heic"])
def test_labeling_rewrites_no_pixel_and_replaces_the_label(samples, name):
    data = samples[name]
    once = handler.write_label(data, LABEL)
    twice = handler.write_label(once, AigcLabel.first_write(label="2", producer=LABEL.ContentProducer,
                                                            produce_id="heif-2"))
    assert np.array_equal(pixels(once), pixels(data)) and np.array_equal(pixels(twice), pixels(data))
    [found] = handler.read_labels(twice).labels
    assert found.parsed.get("ProduceID") == "heif-2" and found.conformant
    assert b"heif-1" not in twice  # update, never append: the old value's bytes are gone too
    info = handler.probe(twice)
    assert (info.format, info.width, info.height) == (name.endswith("avif") and "AVIF" or "HEIF", *Image.open(
        io.BytesIO(data)).size)


def test_labels_written_by_libavif_and_libheif_are_read(samples):
    for fmt in ("AVIF", "HEIF"):
        buf = io.BytesIO()
        Image.open(io.BytesIO(samples["photo.png"])).save(buf, fmt, quality=70, xmp=xmp.new_packet(LABEL.to_json()))
        [found] = handler.read_labels(buf.getvalue()).labels
        assert found.parsed.to_label() == LABEL and found.conformant and fmt in found.location


def test_an_exif_usercomment_label_in_heif_is_read(samples):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + LABEL.to_wrapped_json().encode()
    buf = io.BytesIO()
    Image.open(io.BytesIO(samples["photo.png"])).save(buf, "AVIF", quality=70, exif=exif.tobytes())
    [found] = handler.read_labels(buf.getvalue()).labels
    assert found.location == "EXIF UserComment (Exif IFD)" and found.conformant


def test_damaged_and_hostile_heif(samples):
    data = samples["photo.avif"]
    cut = data[: len(data) // 2]
    with pytest.raises(CorruptMedia):
        handler.write_label(cut, LABEL)
    assert any(p.startswith("container damaged") for p in handler.read_labels(cut).problems)
    meta = data.index(b"meta") - 4
    huge_box = data[:meta] + struct.pack(">I", 0x7FFFFFFF) + data[meta + 4 :]
    for blob in (huge_box, data[:40], data[:24] + b"\xff" * 200):
        with pytest.raises(SynthgovError):
            handler.write_label(blob, LABEL)
        with contextlib.suppress(SynthgovError):
            handler.read_labels(blob)
    not_an_image = b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp42" + b"\x00" * 64  # an MP4's ftyp
    with pytest.raises(UnsupportedMedia):
        handler.read_labels(not_an_image)


def test_an_avif_sequence_counts_its_frames_before_decoding():
    from synthgov.errors import HostileInput
    from synthgov.modalities.image.handler import ImageConfig

    frames = [Image.new("RGB", (64, 48), (i * 20, 0, 0)) for i in range(12)]
    buf = io.BytesIO()
    frames[0].save(buf, "AVIF", save_all=True, append_images=frames[1:], duration=50)
    assert heif.scan(buf.getvalue()).frames == 12
    with pytest.raises(HostileInput, match="12 frames"):
        ImageHandler(ImageConfig(max_frames=10)).read_labels(buf.getvalue())
    with pytest.raises(UnsupportedMedia, match="sequences"):
        handler.write_label(buf.getvalue(), LABEL)


def test_extents_that_repeat_the_file_are_a_bounded_read(samples):
    """An XMP item whose 40,000 extents each name the whole file would read gigabytes: refused at the
    metadata limit, as the bytes add up."""
    from synthgov.errors import HostileInput

    buf = io.BytesIO()
    Image.open(io.BytesIO(samples["photo.png"])).save(buf, "AVIF", quality=50, xmp=PACKET)
    data = buf.getvalue()
    top, meta = heif.parse_meta(data, heif.strict)
    xmp_item = next(i.item for i in meta.items if i.type == b"mime")
    iloc = meta.child(b"iloc")
    locs = heif.parse_iloc(data, iloc)
    for loc in locs.items:
        if loc.item == xmp_item:
            loc.method, loc.base, loc.extents = 0, 0, [heif.Extent(0, 0, len(data))] * 4000
    new_iloc = heif.encode_iloc(locs)
    meta_bytes = data[meta.box.start : iloc.start] + new_iloc + data[iloc.end : meta.box.end]
    meta_bytes = struct.pack(">I", len(meta_bytes)) + meta_bytes[4:]
    hostile = data[: meta.box.start] + meta_bytes + data[meta.box.end :]
    with pytest.raises(HostileInput, match="metadata"):
        handler.read_labels(hostile)
