"""The XMP TC260:AIGC label in each format, read back by exiftool (an independent reader)."""

import io
import json
import subprocess

import pytest
from PIL import Image

from synthgov.modalities.image import ImageHandler, png, xmp
from synthgov.provenance.label import AigcLabel

FORMATS = ["photo.jpg", "rocket.jpg", "progressive.jpg", "photo.png", "alpha.png", "lossy.webp",
           "lossless.webp", "alpha.webp", "photo.tif", "photo.gif"]
PRODUCER = "0011910000000000DEM00L10001"
handler = ImageHandler()


def make_label(pid="pid-1") -> AigcLabel:
    return AigcLabel.first_write(label="1", producer=PRODUCER, produce_id=pid, reserved1='{"SecurityData":{"x":1}}')


def pixels(data: bytes) -> tuple:
    with Image.open(io.BytesIO(data)) as im:
        frames = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            frames.append(im.tobytes())
        return im.mode, im.size, tuple(frames)


def exif_json(exiftool, path, *tags) -> dict:
    out = subprocess.run([exiftool, "-j", "-G1", "-struct", *tags, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)[0]


@pytest.mark.parametrize("name", FORMATS)
def test_exiftool_reads_what_we_wrote_and_pixels_are_identical(name, samples, tmp_path, exiftool):
    label = make_label()
    out = handler.write_label(samples[name], label)
    path = tmp_path / name
    path.write_bytes(out)
    tags = exif_json(exiftool, path, "-XMP-TC260:AIGC")
    assert tags["XMP-TC260:Aigc"] == label.to_json()
    assert pixels(out) == pixels(samples[name])


@pytest.mark.parametrize("name", FORMATS)
def test_relabel_updates_never_appends(name, samples):
    once = handler.write_label(samples[name], make_label("first"))
    twice = handler.write_label(once, make_label("second"))
    report = handler.read_labels(twice)
    assert [f.parsed.get("ProduceID") for f in report.labels] == ["second"]
    assert report.problems == []


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "lossy.webp"])
def test_other_metadata_is_kept(name, samples, tmp_path, exiftool):
    src, out = tmp_path / f"src-{name}", tmp_path / name
    src.write_bytes(samples[name])
    out.write_bytes(handler.write_label(samples[name], make_label()))
    before = exif_json(exiftool, src, "-EXIF:all", "-ICC_Profile:ProfileDescription", "-XMP-dc:all", "-XMP-xmp:all")
    after = exif_json(exiftool, out, "-EXIF:all", "-ICC_Profile:ProfileDescription", "-XMP-dc:all", "-XMP-xmp:all")
    before.pop("SourceFile"), after.pop("SourceFile")
    assert after == before
    assert after["IFD0:Make"] == "SynthCam"
    if name == "photo.jpg":
        assert after["XMP-dc:Creator"] in ("Test Photographer", ["Test Photographer"])


def test_webp_simple_file_becomes_extended_with_xmp_flag(samples):
    out = handler.write_label(samples["lossless.webp"], make_label())
    assert out[12:16] == b"VP8X" and out[20] & 0x04
    assert Image.open(io.BytesIO(out)).size == Image.open(io.BytesIO(samples["lossless.webp"])).size


def test_labeling_adds_no_exiftool_validation_warnings(samples, tmp_path, exiftool):
    for name in ("photo.jpg", "rocket.jpg", "photo.png", "alpha.png", "lossy.webp", "alpha.webp", "lossless.webp"):
        src, out = tmp_path / f"src-{name}", tmp_path / name
        src.write_bytes(samples[name])
        out.write_bytes(handler.write_label(samples[name], make_label()))
        before = exif_json(exiftool, src, "-validate", "-warning", "-a")
        after = exif_json(exiftool, out, "-validate", "-warning", "-a")
        assert after.get("ExifTool:Validate") == before.get("ExifTool:Validate"), (name, before, after)


def _xmp_file(packet: bytes, samples) -> bytes:
    return png.write(samples["photo.png"], packet)


def test_reader_accepts_attribute_form_other_prefix_and_entities(samples):
    value = make_label().to_json().replace('"', "&quot;")
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:tc260="{xmp.TC260_NS}" tc260:AIGC="{value}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()
    report = handler.read_labels(_xmp_file(packet, samples))
    assert len(report.labels) == 1
    assert "(attribute)" in report.labels[0].location
    assert report.labels[0].parsed.to_label() == make_label()


def test_reader_accepts_wrapped_form_in_xmp_with_a_note(samples):
    data = _xmp_file(xmp.new_packet(make_label().to_wrapped_json()), samples)
    found = handler.read_labels(data).labels[0]
    assert found.parsed.conformant and "wrapped" in found.notes[0]


def test_a_label_in_a_wrong_namespace_is_read_and_judged(samples):
    packet = xmp.new_packet(make_label().to_json()).replace(xmp.TC260_NS.encode(), b"http://example.com/aigc/")
    report = handler.read_labels(_xmp_file(packet, samples))
    [found] = report.labels
    assert found.parsed.to_label() == make_label() and not found.conformant
    assert found.placement == ["AIGC element in namespace 'http://example.com/aigc/', not the TC260 URI "
                               f"{xmp.TC260_NS}"]
    relabeled = handler.read_labels(handler.write_label(_xmp_file(packet, samples), make_label()))
    assert [f.conformant for f in relabeled.labels] == [True]  # labeling updates the misplaced label, never adds


def test_annex_b_png_text_and_exif_usercomment_are_read(samples):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", make_label().to_wrapped_json())
    im = Image.open(io.BytesIO(samples["photo.png"]))
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info)
    report = handler.read_labels(buf.getvalue())
    assert [f.location for f in report.labels] == ["PNG tEXt AIGC"]
    assert report.labels[0].parsed.conformant

    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + make_label().to_wrapped_json().encode()
    buf = io.BytesIO()
    Image.open(io.BytesIO(samples["photo.jpg"])).save(buf, "JPEG", exif=exif.tobytes(), quality=90)
    report = handler.read_labels(buf.getvalue())
    assert [f.location for f in report.labels] == ["EXIF UserComment (Exif IFD)"]
    # writing the XMP label replaces the Annex B one: still exactly one label
    relabeled = handler.read_labels(handler.write_label(buf.getvalue(), make_label("new")))
    assert [f.parsed.get("ProduceID") for f in relabeled.labels] == ["new"]


def test_duplicate_labels_are_reported(samples):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", make_label("a").to_wrapped_json())
    buf = io.BytesIO()
    Image.open(io.BytesIO(samples["photo.png"])).save(buf, "PNG", pnginfo=info)
    # add an XMP label alongside the tEXt one, the way a careless tool would
    data = buf.getvalue()
    idat = data.index(b"IDAT") - 4
    chunk = png._chunk(b"iTXt", png.XMP_KEYWORD + b"\x00" * 5 + xmp.new_packet(make_label("b").to_json()))
    doubled = data[:idat] + chunk + data[idat:]
    report = handler.read_labels(doubled)
    assert len(report.labels) == 2
    assert any("exactly one" in p for p in report.problems)
