"""Labeling writes the output and its generation record together, or neither."""

import hashlib
import json

import pytest
from sqlalchemy.exc import IntegrityError

from synthgov.audit.models import AuditEvent
from synthgov.errors import Conflict, Forbidden, InvalidInput, SynthgovError
from synthgov.labeling import service
from synthgov.permissions import Actor, ActorKind
from synthgov.records.models import GenerationRecord
from tests.conftest import count_rows
from tests.modalities.image.test_bad_input import BILLION_LAUGHS, bomb_png, with_xmp


def test_label_file_writes_output_record_and_event(platform, operator, sample_files, tmp_path):
    out = tmp_path / "out.jpg"
    with platform.unit_of_work(operator) as ctx:
        outcome = service.label_file(ctx, source=sample_files["photo.jpg"], destination=out, user="user-42")
    data = out.read_bytes()
    with platform.sessionmaker() as session:
        record = session.get(GenerationRecord, outcome.record.id)
        event = session.query(AuditEvent).filter_by(kind="content.labeled").one()
    assert record.output_sha256 == hashlib.sha256(data).hexdigest()
    assert record.input_sha256 == hashlib.sha256(sample_files["photo.jpg"].read_bytes()).hexdigest()
    assert record.user_ref == "user-42" and record.actor == "operator:tester" and record.demo
    assert record.labels_applied == ["watermark:keyed-ss-v2", "explicit:visible-text", "metadata:xmp-tc260"]
    assert len(record.watermark_payload) == 16
    assert json.loads(record.metadata_label)["ProduceID"] == record.produce_id
    assert record.created_at.tzinfo is not None
    assert event.kind == "content.labeled" and event.subject == record.produce_id


def test_metadata_only_keeps_pixels(platform, operator, sample_files, tmp_path):
    from tests.modalities.image.test_metadata_label import pixels

    out = tmp_path / "out.png"
    with platform.unit_of_work(operator) as ctx:
        outcome = service.label_file(ctx, source=sample_files["photo.png"], destination=out, visible=False,
                                     watermark=False)
    assert outcome.record.labels_applied == ["metadata:xmp-tc260"]
    assert pixels(out.read_bytes()) == pixels(sample_files["photo.png"].read_bytes())


def test_produce_ids_are_unique(platform, operator, sample_files, tmp_path):
    ids = set()
    with platform.unit_of_work(operator) as ctx:
        for i in range(5):
            o = service.label_file(ctx, source=sample_files["photo.gif"], destination=tmp_path / f"{i}.gif")
            ids.add(o.record.produce_id)
    assert len(ids) == 5


def test_duplicate_produce_id_leaves_no_file_and_no_record(platform, operator, sample_files, tmp_path, monkeypatch):
    monkeypatch.setattr(service, "new_produce_id", lambda: "fixed-id")
    with platform.unit_of_work(operator) as ctx:
        service.label_file(ctx, source=sample_files["photo.png"], destination=tmp_path / "a.png")
    with pytest.raises(IntegrityError), platform.unit_of_work(operator) as ctx:
        service.label_file(ctx, source=sample_files["photo.png"], destination=tmp_path / "b.png")
    assert not (tmp_path / "b.png").exists()
    assert count_rows(platform, GenerationRecord) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_commit_failure_leaves_the_old_file_and_no_output(platform, operator, sample_files, tmp_path):
    out = tmp_path / "out.png"
    out.write_bytes(b"previous contents")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), platform.unit_of_work(operator) as ctx:
        service.label_file(ctx, source=sample_files["photo.png"], destination=out, overwrite=True)
        assert out.read_bytes() == b"previous contents"  # the output replaces it only after the commit
        original = ctx.session.commit

        def failing_commit():
            raise Boom("disk full")

        ctx.session.commit = failing_commit
    ctx.session.commit = original
    assert out.read_bytes() == b"previous contents"
    assert count_rows(platform, GenerationRecord) == 0
    assert count_rows(platform, AuditEvent) == 1  # only init's provider.configured
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.png", "empty"),
        (b"hello world, not an image at all", "note.png", "unsupported"),
        ("truncate", "cut.jpg", "truncated"),
        ("rename", "photo.png", "says .png but the content is JPEG"),
        (bomb_png(), "bomb.png", "decompression"),
        ("xxe", "xmp.png", "entities"),
    ],
)
def test_bad_inputs_leave_no_file_and_no_record(platform, operator, samples, tmp_path, content, name, message):
    if content == "truncate":
        content = samples["photo.jpg"][: len(samples["photo.jpg"]) // 2]
    elif content == "rename":
        content = samples["photo.jpg"]
    elif content == "xxe":
        content = with_xmp(samples, BILLION_LAUGHS)
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / ("out" + src.suffix)
    with pytest.raises(SynthgovError, match=message), platform.unit_of_work(operator) as ctx:
        service.label_file(ctx, source=src, destination=out)
    assert not out.exists()
    assert count_rows(platform, GenerationRecord) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_output_extension_must_match(platform, operator, sample_files, tmp_path):
    with pytest.raises(InvalidInput, match="output name"), platform.unit_of_work(operator) as ctx:
        service.label_file(ctx, source=sample_files["photo.png"], destination=tmp_path / "out.jpg")
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(platform, operator, sample_files, tmp_path):
    (tmp_path / "out.png").write_bytes(b"keep me")
    with pytest.raises(Conflict), platform.unit_of_work(operator) as ctx:
        service.label_file(ctx, source=sample_files["photo.png"], destination=tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == b"keep me"


def test_permission_is_checked_in_the_service(platform, samples):
    reader = Actor(ActorKind.API_KEY, "k", frozenset())
    with pytest.raises(Forbidden), platform.unit_of_work(reader) as ctx:
        service.label_content(ctx, data=samples["photo.png"])


def test_size_limit(reconfigure, operator, samples):
    platform = reconfigure(max_input_bytes=1000)
    with pytest.raises(SynthgovError, match="over the 1000-byte limit"), platform.unit_of_work(operator) as ctx:
        service.label_content(ctx, data=samples["photo.png"])


@pytest.mark.parametrize(("field", "value", "message"), [
    ("user", "a\x00b", "user reference must not hold control characters"),
    ("user", "alice\nrecord 1 made for: mallory", "user reference must not hold control characters"),
    ("user", "x" * 257, "user reference must be 1 to 256 characters"),
    ("user", "", "user reference must be 1 to 256 characters"),
    ("service", "s" * 129, "service name must be 1 to 128 characters"),
    ("model", "m\x7f", "model name must not hold control characters"),
    ("idempotency_key", "k\x00", "Idempotency-Key must not hold control characters"),
])
def test_references_kept_in_the_record_are_checked(platform, operator, samples, field, value, message):
    """Text kept in the record is checked before anything is written: PostgreSQL would refuse a NUL
    or an over-long value with a database error, and a newline would forge a line of an export."""
    with pytest.raises(InvalidInput, match=message), platform.unit_of_work(operator) as ctx:
        service.label_content(ctx, data=samples["photo.png"], visible=False, **{field: value})
    assert count_rows(platform, GenerationRecord) == 0
    with platform.unit_of_work(operator) as ctx:  # printable text of any script is a reference
        service.label_content(ctx, data=samples["photo.png"], visible=False, user="用户 42 – ünïcode")
    assert count_rows(platform, GenerationRecord) == 1
