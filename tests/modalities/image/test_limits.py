"""Bounded work: frames, pages, decoded pixels, metadata and parts are checked in the container,
before anything is decoded; multi-frame and multi-page images keep every frame and page."""

import io
import struct
import time
import tracemalloc
import zlib

import pytest
from PIL import Image

from synthgov.errors import HostileInput
from synthgov.modalities.base import ExplicitLabelSpec, LabelPlan
from synthgov.modalities.image import ImageHandler
from synthgov.modalities.image import tiff as tiff_container
from synthgov.provenance.label import AigcLabel

LABEL = AigcLabel.first_write(label="1", producer="0011910000000000DEM00L10001", produce_id="limits-1")
VISIBLE = ExplicitLabelSpec("AI生成", "bottom-right", 0.06)


def encode(frames, fmt, **kwargs):
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=len(frames) > 1, append_images=frames[1:], **kwargs)
    return buf.getvalue()


def test_an_animation_that_decodes_to_too_many_pixels_is_refused_before_decoding():
    frames = []
    for i in range(30):  # 30 frames of a 2000x2000 canvas = 120 megapixels decoded, in a file of a few KB
        im = Image.new("P", (2000, 2000), 0)
        im.putpixel((i, i), 1)
        frames.append(im)
    data = encode(frames, "GIF")
    assert len(data) < 200_000
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(HostileInput, match="would make 120000000 pixels, over the 32000000-pixel limit"):
        ImageHandler().label(data, LabelPlan(metadata=LABEL, explicit=VISIBLE))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 1024 * 1024 and time.perf_counter() - start < 5  # refused from the container alone


def test_frame_limit():
    frames = [Image.new("RGB", (40, 8), "white") for _ in range(40)]
    for i, im in enumerate(frames):
        im.putpixel((i, 0), (255, 0, 0))
    data = encode(frames, "GIF")
    with pytest.raises(HostileInput, match="40 frames, over the limit of 20"):
        ImageHandler(ImageHandler.Config(max_frames=20)).read_labels(data)


def _declare_second_page(data: bytes, width: int, height: int) -> bytes:
    bo, first = tiff_container._header(data)
    _, second = tiff_container._ifd(data, bo, first)
    (count,) = struct.unpack(bo + "H", data[second:second + 2])
    out = bytearray(data)
    for i in range(count):
        at = second + 2 + 12 * i
        tag, typ = struct.unpack(bo + "HH", data[at:at + 4])
        if tag in (256, 257):
            out[at + 2:at + 12] = struct.pack(bo + "HII", 4, 1, width if tag == 256 else height)
    return bytes(out)


def test_a_second_tiff_page_is_guarded_too():
    data = encode([Image.new("RGB", (64, 64)), Image.new("RGB", (64, 64))], "TIFF")
    hostile = _declare_second_page(data, 30000, 30000)
    for call in (lambda h: h.read_labels(hostile), lambda h: h.label(hostile, LabelPlan(explicit=VISIBLE))):
        with pytest.raises(HostileInput, match="page 2: image is 30000x30000"):
            call(ImageHandler())


def test_many_compressed_text_chunks_are_refused_before_they_inflate():
    from synthgov.modalities.image import png

    base = encode([Image.new("RGB", (16, 16))], "PNG")
    big = zlib.compress(b"x" * (1024 * 1024), 9)  # 1 MiB of text in about 1 KB
    chunks = b"".join(png._chunk(b"iTXt", b"Comment%d\x00\x01\x00\x00\x00" % i + big) for i in range(200))
    data = base[:33] + chunks + base[33:]  # after IHDR
    assert len(data) < 400_000
    tracemalloc.start()
    with pytest.raises(HostileInput, match="more than 16777216 bytes of metadata"):
        ImageHandler().read_labels(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


@pytest.mark.parametrize("fmt", ["TIFF", "PNG", "GIF", "WEBP"])
def test_every_frame_and_page_is_kept(fmt):
    frames = [Image.new("RGB", (320, 240), colour) for colour in ("red", "blue", "green")]
    data = encode(frames, fmt)
    handler = ImageHandler()
    out = handler.label(data, LabelPlan(metadata=LABEL, explicit=VISIBLE)).data
    with Image.open(io.BytesIO(out)) as im:
        assert im.n_frames == 3
        colours = []
        for i in range(3):
            im.seek(i)
            colours.append(im.convert("RGB").getpixel((5, 5)))
    assert colours[0][0] > 200 and colours[1][2] > 200 and colours[2][1] > 100  # each frame its own, in order
    assert [f.parsed.to_label() for f in handler.read_labels(out).labels] == [LABEL]


def test_xmp_with_an_unbound_prefix_is_read_not_crashed_on():
    """Found by the fuzzer (fuzz/corpus/xmp/regression-unbound-prefix): a prefix bound to nothing."""
    from synthgov.modalities.image.xmp import find_aigc

    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlnz:rdf="-"><rdf:Description>'
              b'<foo:AIGC>{"Label":"1"}</foo:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>')
    try:
        found, notes = find_aigc(packet)
    except Exception as exc:  # noqa: BLE001 - only a typed refusal would be acceptable
        from synthgov.errors import SynthgovError

        assert isinstance(exc, SynthgovError), exc
    else:
        assert not found and notes == ["an AIGC property in an unbound prefix (no namespace declared), not the "
                                       "TC260 URI"]
