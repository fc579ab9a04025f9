"""The watermark traces a labeled image after its metadata is stripped."""

import io

import pytest
from PIL import Image

from synthgov.labeling.service import label_content
from synthgov.modalities.image import watermark as wm
from synthgov.tracing.service import inspect_content


def reencode(data: bytes, quality: int = 75) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def test_stripped_copy_traces_by_watermark(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=samples["rocket.jpg"], user="u-w")
    assert outcome.record.watermark_payload
    copy = reencode(outcome.data)
    with platform.unit_of_work(operator) as ctx:
        result = inspect_content(ctx, data=copy)
    assert result.labels == []
    mark = result.watermark
    assert mark.present and mark.payload == outcome.record.watermark_payload
    assert mark.record.id == outcome.record.id and mark.record.user_ref == "u-w"
    assert result.fingerprint_matches == []  # the watermark already traced it


def test_metadata_traced_files_skip_the_watermark_unless_deep(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=samples["rocket.jpg"])
        assert inspect_content(ctx, data=outcome.data).watermark is None
        deep = inspect_content(ctx, data=outcome.data, deep=True)
    assert deep.watermark.present and deep.watermark.record.id == outcome.record.id


def test_unmarked_and_too_small(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        mark = inspect_content(ctx, data=samples["photo.png"]).watermark
        assert mark.present is False and mark.checked is True and mark.record is None
        small = io.BytesIO()
        Image.new("RGB", (80, 80), "gray").save(small, "PNG")
        result = inspect_content(ctx, data=small.getvalue())
    assert result.watermark.checked is False and "too small" in result.watermark.detail


@pytest.mark.parametrize(("size", "colour", "reason"), [
    ((220, 200), "teal", "image 220x200 is too small"),
    ((640, 480), "white", "nothing in this 640x480 image can carry"),  # no pixel can carry the mark
])
def test_unmarkable_images_are_labeled_without_a_watermark(platform, operator, size, colour, reason):
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=buf.getvalue())
    assert outcome.record.watermark_payload is None
    assert outcome.record.labels_applied[0].startswith(f"watermark:skipped ({reason}")


def test_the_record_says_how_strong_the_mark_is_and_inspect_repeats_it(platform, operator, samples):
    """A near-white page has almost no room for a mark: the record says it is unreliable and that
    tracing relies on the label and the fingerprint; inspect says so where the mark is missing."""
    pale = io.BytesIO()
    Image.new("RGB", (512, 384), (250, 250, 250)).save(pale, "PNG")
    with platform.unit_of_work(operator) as ctx:
        photo = label_content(ctx, data=samples["rocket.jpg"]).record
        weak = label_content(ctx, data=pale.getvalue())
        result = inspect_content(ctx, data=weak.data)
    limited = wm.DEFAULT.limited_snr
    assert photo.watermark_strength["expected"] in ("robust", "limited")
    assert photo.watermark_strength["margin"] >= limited
    strength = weak.record.watermark_strength
    assert strength["expected"] == "unreliable" and strength["margin"] < limited and strength["strength"] == 1.0
    assert "relies on the metadata label and the fingerprint" in strength["note"]
    assert result.labels[0].record.watermark_strength == strength
    assert any(f"record {weak.record.id} made an unreliable watermark (SNR " in n and " dB on a JPEG q50 copy" in n
               for n in result.notes)


def test_records_made_before_the_calibrated_embedder_read_as_they_were():
    from synthgov.watermarking.scheme import margin_text

    assert margin_text({"margin": 8.7, "check": "JPEG q75 copy"}) == "z 8.7 on a JPEG q75 copy"
    assert margin_text({"margin": 6.5, "unit": "dB", "check": "JPEG q50 copy"}) == "SNR 6.5 dB on a JPEG q50 copy"
