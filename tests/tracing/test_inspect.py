"""Inspection reads every label, verifies the signature and traces the record."""

import io

import pytest
from PIL import Image

from synthgov.errors import NotFound
from synthgov.labeling.service import label_content
from synthgov.modalities.image import ImageHandler
from synthgov.provenance.label import AigcLabel, signed_message
from synthgov.provenance.signing import Sm2Signer
from synthgov.records.service import get as get_record
from synthgov.tracing.service import Status, inspect_content, inspect_or_error

handler = ImageHandler()


def labeled(platform, operator, data, **kw):
    with platform.unit_of_work(operator) as ctx:
        return label_content(ctx, data=data, **kw)


def inspect(platform, operator, data):
    with platform.unit_of_work(operator) as ctx:
        return inspect_content(ctx, data=data, name="f")


def test_traces_a_labeled_file(platform, operator, samples):
    outcome = labeled(platform, operator, samples["photo.jpg"], user="u-1")
    result = inspect(platform, operator, outcome.data)
    assert result.status is Status.LABELED
    (finding,) = result.labels
    assert finding.signature.verdict == "valid"
    assert finding.record.id == outcome.record.id and finding.record.user_ref == "u-1"
    assert finding.content_matches_record is True
    assert finding.fields["ProduceID"] == outcome.record.produce_id


def test_reencoded_copy_still_traces_but_content_differs(platform, operator, samples):
    outcome = labeled(platform, operator, samples["photo.png"], visible=False)
    im = Image.open(io.BytesIO(outcome.data))
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=None, optimize=True)
    reencoded = handler.write_label(buf.getvalue(), handler.read_labels(outcome.data).labels[0].parsed.to_label())
    finding = inspect(platform, operator, reencoded).labels[0]
    assert finding.record.id == outcome.record.id
    assert finding.content_matches_record is False


def test_tampered_label_is_detected(platform, operator, samples):
    outcome = labeled(platform, operator, samples["photo.png"], visible=False)
    original = handler.read_labels(outcome.data).labels[0].parsed.to_label()
    forged = AigcLabel(**(original.as_dict() | {"Label": "2"}))
    result = inspect(platform, operator, handler.write_label(outcome.data, forged))
    assert result.labels[0].signature.verdict == "tampered"
    assert result.status is Status.NONCONFORMANT


def test_unsigned_and_foreign_signed_labels(platform, operator, samples):
    unsigned = AigcLabel.first_write(label="1", producer="001191440300708461136T1XGW3", produce_id="elsewhere")
    result = inspect(platform, operator, handler.write_label(samples["photo.png"], unsigned))
    assert result.labels[0].signature.verdict == "unsigned"
    assert result.labels[0].record is None
    assert result.status is Status.LABELED

    other = Sm2Signer.generate()
    reserved = other.security_data(signed_message("1", "001191440300708461136T1XGW3", "elsewhere"))
    foreign = AigcLabel.first_write(label="1", producer="001191440300708461136T1XGW3", produce_id="elsewhere",
                                    reserved1=reserved)
    finding = inspect(platform, operator, handler.write_label(samples["photo.png"], foreign)).labels[0]
    assert finding.signature.verdict == "integrity-only"
    assert finding.signature.key_id == other.key_id


def test_pinned_foreign_key_is_valid(reconfigure, operator, samples):
    other = Sm2Signer.generate()
    platform = reconfigure(pinned_keys=[other.spki.hex()])
    reserved = other.security_data(signed_message("1", "001191440300708461136T1XGW3", "p"))
    lab = AigcLabel.first_write(label="1", producer="001191440300708461136T1XGW3", produce_id="p", reserved1=reserved)
    finding = inspect(platform, operator, handler.write_label(samples["photo.gif"], lab)).labels[0]
    assert finding.signature.verdict == "valid"


def test_unlabeled_and_broken_files(platform, operator, samples):
    assert inspect(platform, operator, samples["photo.tif"]).status is Status.UNLABELED
    with platform.unit_of_work(operator) as ctx:
        broken = inspect_or_error(ctx, data=samples["photo.png"][:100], name="cut.png")
        random = inspect_or_error(ctx, data=b"\x89PNG\r\n\x1a\n" + bytes(range(256)), name="noise.png")
    assert broken.status is Status.UNLABELED and broken.problems == ["container damaged: PNG is truncated inside a "
                                                                     "'iCCP' chunk"]
    assert any("pixels cannot be decoded" in n for n in broken.notes)
    assert random.status is Status.UNLABELED and random.problems[0].startswith("container damaged")


def test_a_damaged_file_still_yields_its_label(platform, operator, samples):
    labeled_file = labeled(platform, operator, samples["photo.jpg"]).data
    for cut in (labeled_file[: len(labeled_file) // 2], labeled_file[:-2]):
        found = inspect(platform, operator, cut)
        assert found.status is Status.NONCONFORMANT and len(found.labels) == 1
        assert found.labels[0].record is not None and found.labels[0].signature.verdict == "valid"
        assert any(p.startswith("container damaged: JPEG is truncated") for p in found.problems)


def test_get_record(platform, operator, samples):
    outcome = labeled(platform, operator, samples["photo.gif"])
    with platform.unit_of_work(operator) as ctx:
        assert get_record(ctx, produce_id=outcome.record.produce_id).id == outcome.record.id
        with pytest.raises(NotFound):
            get_record(ctx, produce_id="nope")
