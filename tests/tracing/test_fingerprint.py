"""PDQ fallback: tracing an image whose metadata is gone, rotated, mirrored and squeezed copies included."""

import io

from PIL import Image, ImageOps

from synthgov.labeling.service import label_content
from synthgov.modalities.image.fingerprint import MATCH_DISTANCE
from synthgov.tracing.service import Status, inspect_content
from tests.conftest import encode, load_photo


def strip(data: bytes, transform=lambda im: im, fmt="JPEG") -> bytes:
    im = transform(Image.open(io.BytesIO(data)).convert("RGB"))
    return encode(im, fmt, **({"quality": 80} if fmt == "JPEG" else {}))


def test_records_store_a_pdq_hash_and_stripped_copies_trace_by_fingerprint(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:  # no watermark: the fingerprint is the last resort
        outcome = label_content(ctx, data=samples["photo.png"], user="u-9", watermark=False)
    assert len(outcome.record.fingerprint) == 32 and outcome.record.fingerprint_quality >= 50
    for transform in (lambda im: im, lambda im: im.rotate(90, expand=True), ImageOps.mirror,
                      lambda im: im.resize((im.width // 2, im.height // 2)),
                      lambda im: im.resize((im.width * 4 // 5, im.height))):  # an aspect change
        copy = strip(outcome.data, transform)
        with platform.unit_of_work(operator) as ctx:
            result = inspect_content(ctx, data=copy)
        assert result.status is Status.UNLABELED and result.labels == []
        (match,) = result.fingerprint_matches
        assert match.match == "fingerprint" and match.distance <= MATCH_DISTANCE
        assert match.record.id == outcome.record.id and match.record.user_ref == "u-9"


def test_an_unrelated_image_matches_nothing(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        label_content(ctx, data=samples["photo.png"])
    other = encode(load_photo("rocket.jpg"), "PNG")
    with platform.unit_of_work(operator) as ctx:
        assert inspect_content(ctx, data=other).fingerprint_matches == []


def test_labeled_files_trace_by_label_not_fingerprint(platform, operator, samples):
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=samples["photo.jpg"])
        result = inspect_content(ctx, data=outcome.data)
    assert result.labels[0].record and result.fingerprint_matches == []


def test_answers_say_whether_a_file_is_the_input_or_a_near_copy_of_the_output(platform, operator, samples):
    """A real photograph that was only the input of an edit is not reported as generated."""
    from synthgov.tracing.schemas import Relation

    original = samples["photo.png"]
    with platform.unit_of_work(operator) as ctx:
        outcome = label_content(ctx, data=original, watermark=False)
        source = inspect_content(ctx, data=original)
        output = inspect_content(ctx, data=outcome.data)
        copy = inspect_content(ctx, data=strip(outcome.data))
    assert [(m.relation, m.record.id) for m in source.content_matches] == [(Relation.INPUT, outcome.record.id)]
    assert source.status is Status.UNLABELED and source.labels == []
    assert source.fingerprint_matches and source.fingerprint_matches[0].also_input
    assert any("input of record" in n for n in source.notes) and any("not content this provider" in n
                                                                    for n in source.notes)
    assert [m.relation for m in output.content_matches] == [Relation.OUTPUT]
    assert copy.content_matches == [] and not copy.fingerprint_matches[0].also_input
    assert copy.fingerprint_matches[0].relation is Relation.NEAR_OUTPUT
    assert copy.to_dict()["fingerprint_matches"][0]["relation"] == "near-copy-of-output"
