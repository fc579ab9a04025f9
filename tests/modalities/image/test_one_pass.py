"""One decode, one encode: a labeling decodes the pixels at most once, encodes a lossy format at
most once, and metadata-only labeling decodes nothing (counted on Pillow itself)."""

import pytest
from PIL import Image, ImageFile, TiffImagePlugin, WebPImagePlugin

from synthgov.labeling.service import label_content
from synthgov.modalities.base import ExplicitLabelSpec, LabelKind, LabelPlan, WatermarkOrder
from synthgov.modalities.image import ImageHandler, handler
from synthgov.provenance.label import AigcLabel

LABEL = AigcLabel.first_write(label="1", producer="0011910000000000DEM00L10001", produce_id="one-pass")
FORMATS = ["photo.jpg", "progressive.jpg", "photo.png", "alpha.png", "lossy.webp", "lossless.webp", "photo.tif",
           "photo.gif"]


@pytest.fixture
def counts(monkeypatch):
    seen = {"decode": 0, "encode": 0, "scan": 0}
    depth = [0]
    save = Image.Image.save

    def counting(load):
        def counted_load(self, *args, **kwargs):
            # an outermost load of an image with no pixel storage yet decodes it (plugins override load)
            if depth[0] == 0 and self.__dict__.get("_im") is None:
                seen["decode"] += 1
            depth[0] += 1
            try:
                return load(self, *args, **kwargs)
            finally:
                depth[0] -= 1
        return counted_load

    def counted_save(self, *args, **kwargs):
        seen["encode"] += 1
        return save(self, *args, **kwargs)

    for cls in (ImageFile.ImageFile, TiffImagePlugin.TiffImageFile, WebPImagePlugin.WebPImageFile):
        monkeypatch.setattr(cls, "load", counting(cls.__dict__["load"]))
    monkeypatch.setattr(Image.Image, "save", counted_save)
    for fmt, module in handler.CONTAINERS.items():
        scan = module.scan

        def counted_scan(data, lenient=False, _scan=scan):
            seen["scan"] += 1
            return _scan(data, lenient)

        monkeypatch.setitem(handler.CONTAINERS, fmt, type("Counted", (), {"scan": staticmethod(counted_scan),
                                                                        "write": staticmethod(module.write)}))
    return seen


@pytest.mark.parametrize("name", FORMATS)
def test_metadata_only_decodes_and_encodes_nothing(samples, counts, name):
    out = ImageHandler().label(samples[name], LabelPlan(metadata=LABEL))
    assert counts == {"decode": 0, "encode": 0, "scan": 2}  # the input, and the read-back check
    assert [a.tag for a in out.applied] == ["metadata:xmp-tc260"]


@pytest.mark.parametrize("name", FORMATS)
def test_metadata_only_with_fingerprint_decodes_once(samples, counts, name):
    out = ImageHandler().label(samples[name], LabelPlan(metadata=LABEL, fingerprint=True))
    assert counts["decode"] == 1 and counts["encode"] == 0 and out.fingerprint is not None


@pytest.mark.parametrize("name", FORMATS)
def test_full_labeling_decodes_once_and_encodes_once(samples, counts, name):
    plan = LabelPlan(metadata=LABEL, explicit=ExplicitLabelSpec("AI生成"), watermark=WatermarkOrder(7, b"k" * 32),
                     fingerprint=True)
    out = ImageHandler().label(samples[name], plan)
    (mark,) = [a for a in out.applied if a.kind is LabelKind.WATERMARK]
    assert mark.skipped is None or "too small" in mark.skipped  # lossless.webp is 300x200
    # the watermark's strength check reads its mark back from in-memory JPEG copies (one encode and one
    # decode each): a copy per read-back and, in layouts of two tiles a side or fewer, a re-shared crop
    # too; a read-back per layout tried (two where two fit the picture's size) and one or two more when
    # the calibration made the mark again; the input is decoded once and the output encoded once
    reads = counts["encode"] - 1
    assert reads == 0 if mark.skipped else 1 <= reads <= 8
    assert counts == {"decode": 1 + reads, "encode": 1 + reads, "scan": 3}  # input, encoded output, read-backs
    assert (out.watermark_strength is not None) == (not mark.skipped)
    assert out.has(LabelKind.EXPLICIT) and out.has(LabelKind.METADATA) and out.fingerprint is not None
    reread = ImageHandler().read_labels(out.data)
    assert [f.parsed.to_label() for f in reread.labels] == [LABEL]


def test_the_service_adds_no_pass(platform, operator, samples, counts):
    with platform.unit_of_work(operator) as ctx:
        label_content(ctx, data=samples["photo.jpg"], user="u")
    reads = counts["encode"] - 1  # the mark's strength checks: in-memory JPEG copies (as above)
    assert 1 <= reads <= 8 and counts == {"decode": 1 + reads, "encode": 1 + reads, "scan": 3}
    counts.update(decode=0, encode=0, scan=0)
    with platform.unit_of_work(operator) as ctx:
        label_content(ctx, data=samples["photo.jpg"], visible=False, watermark=False)
    assert counts["encode"] == 0 and counts["decode"] == 1  # the PDQ fingerprint of the record


def test_a_16_bit_png_is_refused_for_its_real_cause_and_labels_metadata_only():
    import io

    import numpy as np

    from synthgov.errors import UnsupportedMedia

    buf = io.BytesIO()
    Image.fromarray((np.arange(300 * 400, dtype=np.uint16).reshape(300, 400) * 7).astype(np.uint16)).save(buf, "PNG")
    data = buf.getvalue()
    for plan in (LabelPlan(metadata=LABEL, explicit=ExplicitLabelSpec("AI生成")),
                 LabelPlan(metadata=LABEL, watermark=WatermarkOrder(1, b"k" * 32))):
        with pytest.raises(UnsupportedMedia, match=r"16-bit .*mode I;16.*metadata-only"):
            ImageHandler().label(data, plan)
    out = ImageHandler().label(data, LabelPlan(metadata=LABEL))
    with Image.open(io.BytesIO(out.data)) as im:
        assert im.mode == "I;16" and out.data != data
