"""Which public readers read synthgov's own labels (docs/labels.md, "Who reads synthgov's labels"):
exiftool, exiv2 and Adobe's XMP Toolkit (through exempi and python-xmp-toolkit), each on a label
written into every format by `synthgov label`'s metadata writer."""

import io
import subprocess

import pytest
from PIL import Image

from synthgov.modalities.image import ImageHandler
from synthgov.provenance.label import AigcLabel
from tests.conftest import IN_CI, need_tool  # conftest also registers pillow-heif

LABEL = AigcLabel.first_write(label="1", producer="001191110102MACQD9K64010000", produce_id="reader-check",
                              reserved1='{"Md":"sm3","Bnd":"x"}')  # a nested JSON string, as SecurityData is
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif", "GIF": "gif", "AVIF": "avif", "HEIF": "heic"}
EXIV2_FORMATS = {"jpg", "png", "webp", "tif"}  # exiv2 0.27 reads no metadata from GIF, nor (built without BMFF) HEIF


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readers")
    image = Image.linear_gradient("L").resize((96, 64)).convert("RGB")
    for fmt, ext in FORMATS.items():
        buf = io.BytesIO()
        image.save(buf, fmt)
        (folder / f"own.{ext}").write_bytes(ImageHandler().write_label(buf.getvalue(), LABEL))
    return folder


@pytest.mark.tools
@pytest.mark.parametrize("ext", FORMATS.values())
def test_exiftool_reads_it(written, ext, exiftool):
    out = subprocess.run([exiftool, "-s3", "-XMP-TC260:AIGC", str(written / f"own.{ext}")], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == LABEL.to_json()


@pytest.mark.tools
@pytest.mark.parametrize("ext", sorted(EXIV2_FORMATS))
def test_exiv2_reads_it(written, ext):
    exiv2 = need_tool("exiv2")
    out = subprocess.run([exiv2, "-PXv", str(written / f"own.{ext}")], capture_output=True, text=True).stdout
    assert out.strip() == LABEL.to_json()


@pytest.mark.tools
@pytest.mark.parametrize("ext", FORMATS.values())
def test_adobe_xmp_toolkit_reads_it(written, ext):
    try:
        from libxmp import XMPFiles
    except Exception as exc:  # noqa: BLE001 - ImportError, or OSError when libexempi is missing
        if IN_CI:
            pytest.fail(f"python-xmp-toolkit with libexempi is required in CI: {exc}")
        pytest.skip(f"python-xmp-toolkit / libexempi not available: {exc}")
    xmp = XMPFiles(file_path=str(written / f"own.{ext}")).get_xmp()
    assert xmp is not None and xmp.get_property("http://www.tc260.org.cn/ns/AIGC/1.0/", "AIGC") == LABEL.to_json()
