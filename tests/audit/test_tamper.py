"""The operator as adversary: whoever can write the database edits it, and verification notices.

Each test tampers with the database directly (as someone with write access would), on SQLite and
PostgreSQL, and checks that ``audit verify`` fails naming what was changed, and that ``records
show`` / ``inspect`` say the record does not match the log.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, update

from synthgov.audit import checks, service, verification
from synthgov.audit.checkpoints import CheckpointFile, CheckpointRefused, make_checkpoint
from synthgov.audit.models import AuditEvent
from synthgov.audit.notes import Checkpoint, sign_checkpoint
from synthgov.audit.policy import AuditPolicy
from synthgov.provenance.signing import Sm2Signer
from synthgov.records import service as records
from synthgov.records.models import GenerationRecord
from synthgov.tracing.service import inspect_content
from tests.audit.tampering import check, label, rewrite, tamper, truncate

ROOT = Path(__file__).parents[2]


def test_an_untouched_log_verifies_with_its_checkpoint(platform, operator, samples):
    label(platform, operator, samples, 3)
    made = make_checkpoint(platform)
    assert made.made and made.size == 4  # init + 3 labelings
    result = check(platform, operator)
    assert result.ok, result.problems
    assert result.checkpoints_checked == 1 and result.rows_checked == 3 and result.entries == 4


@pytest.mark.parametrize(("column", "value"), [("kind", "apikey.revoked"), ("actor", "operator:mallory"),
                                               ("subject", "another-produce-id"), ("at", None)])
def test_every_column_is_rederived_from_the_leaf(platform, operator, samples, column, value):
    label(platform, operator, samples, 2)
    if column == "at":
        with platform.sessionmaker() as s:
            value = s.get(AuditEvent, 2).at.replace(year=2020)
    tamper(platform, update(AuditEvent).where(AuditEvent.idx == 2).values({column: value}))
    result = check(platform, operator)
    assert not result.ok
    assert any(p.startswith(f"entry 2: column {column} is ") and "(edited)" in p for p in result.problems), \
        result.problems


def test_an_edited_private_part_is_caught(platform, operator, samples):
    label(platform, operator, samples)
    with platform.sessionmaker() as s, s.begin():
        row = s.get(AuditEvent, 1)
        row.private = row.private.replace('"actor":"operator:tester"', '"actor":"operator:mallory"')
    assert "entry 1: its actor, subject and payload do not match the leaf (edited)" in check(
        platform, operator).problems


def test_an_edited_record_does_not_match_the_log(platform, operator, samples):
    (outcome,) = label(platform, operator, samples)
    make_checkpoint(platform)
    with platform.unit_of_work(operator) as ctx:
        good = records.get(ctx, produce_id=outcome.record.produce_id)
    assert good.log["matches"]
    assert good.log["says"] == "matches log entry 1, included in the signed checkpoint of size 2"
    tamper(platform, update(GenerationRecord).values(user_ref="bob"))
    result = check(platform, operator)
    assert f"generation_records {outcome.record.id}: does not match log entry 1 (edited after it was logged)" in \
        result.problems
    with platform.unit_of_work(operator) as ctx:
        shown = records.get(ctx, produce_id=outcome.record.produce_id)
        inspected = inspect_content(ctx, data=outcome.data)
    assert shown.user_ref == "bob" and not shown.log["matches"]
    assert shown.log["says"].startswith("DOES NOT MATCH the log")
    assert inspected.labels[0].record.log["says"] == shown.log["says"]


def test_a_record_pointed_at_another_entry_or_forged_or_deleted(platform, operator, samples):
    first, second = label(platform, operator, samples, 2)
    tamper(platform, update(GenerationRecord).where(GenerationRecord.id == first.record.id).values(log_index=2))
    problems = check(platform, operator).problems
    assert any(p.startswith(f"generation_records {first.record.id}: points to log entry 2") for p in problems)
    tamper(platform, update(GenerationRecord).where(GenerationRecord.id == first.record.id).values(log_index=1))
    assert check(platform, operator).ok
    with platform.sessionmaker() as s:  # a row inserted behind synthgov's back
        values = {c.name: getattr(s.get(GenerationRecord, second.record.id), c.name)
                  for c in GenerationRecord.__table__.columns}
    values.update(id="f" * 32, produce_id="forged", watermark_payload=None, log_index=None)
    tamper(platform, insert(GenerationRecord).values(**values))
    assert f"generation_records {'f' * 32}: no log entry vouches for this row (written outside synthgov)" in check(
        platform, operator).problems
    tamper(platform, delete(GenerationRecord).where(GenerationRecord.id == "f" * 32))
    tamper(platform, delete(GenerationRecord).where(GenerationRecord.id == second.record.id))
    assert check(platform, operator).problems == [
        f"log entry 2 vouches for generation_records {second.record.id}, which is missing (deleted)"]


def test_a_truncated_log_fails_against_the_checkpoint_file(platform, operator, samples):
    label(platform, operator, samples, 4)
    with platform.unit_of_work(operator) as ctx:
        service.keep_tree_head(ctx)
    make_checkpoint(platform)
    truncate(platform, 3)
    with platform.unit_of_work(operator) as ctx:
        assert checks.verify_log(ctx).ok  # the database alone cannot tell
    problems = check(platform, operator).problems
    checkpoint_file = platform.policy(AuditPolicy).checkpoint_file
    assert problems == [f"{checkpoint_file} holds a signed checkpoint of size 5 but the log holds 3 entries: "
                        "the log was truncated"]
    with pytest.raises(CheckpointRefused, match="the log was truncated; no checkpoint made"):
        make_checkpoint(platform, force=True)


def test_a_rewritten_history_resigned_with_a_new_key(platform, operator, samples):
    label(platform, operator, samples, 3)
    make_checkpoint(platform)
    size, root = rewrite(platform, 2, "operator:mallory")
    with platform.unit_of_work(operator) as ctx:
        assert checks.verify_log(ctx).ok  # consistent inside the database
    problems = check(platform, operator).problems
    cp_file = platform.policy(AuditPolicy).checkpoint_file
    assert problems == [f"{cp_file}: the signed checkpoint of size 4 does not match the log (its history was "
                        "rewritten)"]
    # the adversary replaces the checkpoint file with one signed by a key of its own
    mallory = Sm2Signer.generate()
    cp_file.unlink()
    CheckpointFile(cp_file).append(sign_checkpoint(Checkpoint(platform.policy(AuditPolicy).origin, size, root),
                                                   mallory, "sm2"), "2026-12-01T00:00:00+00:00")
    problems = check(platform, operator).problems
    assert problems == [f"{cp_file}: the checkpoint of size 4 is not signed by any key of this log (forged, or "
                        "re-signed with another key)"]


def test_a_crash_while_a_checkpoint_is_written_leaves_a_readable_file(platform, operator, samples, settings):
    label(platform, operator, samples)
    make_checkpoint(platform)
    label(platform, operator, samples)
    script = (
        "import os, sys\n"
        "from synthgov.bootstrap import open_platform\n"
        "from synthgov.config import load_settings\n"
        "from synthgov.audit import checkpoints\n"
        "real = os.write\n"
        "def torn(fd, data):\n"
        "    real(fd, data[: len(data) // 2])\n"
        "    os._exit(9)  # the process dies in the middle of the append\n"
        "checkpoints.os.write = torn\n"
        "checkpoints.make_checkpoint(open_platform(load_settings(data_dir=sys.argv[1], database_url=sys.argv[2])))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(settings.data_dir), settings.resolved_database_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    cp_file = CheckpointFile(platform.policy(AuditPolicy).checkpoint_file)
    reading = cp_file.read()
    assert reading.torn_tail and not reading.problems and [e.size for e in reading.entries] == [2]
    result = check(platform, operator)
    assert result.ok, result.problems
    assert make_checkpoint(platform).size == 3  # the next append cuts the torn line off first
    reading = cp_file.read()
    assert not reading.torn_tail and [e.size for e in reading.entries] == [2, 3]


def test_key_rotation_keeps_old_checkpoints_verifying(platform, operator, samples):
    label(platform, operator, samples)
    before = make_checkpoint(platform)
    with platform.unit_of_work(operator) as ctx:
        rotated = verification.rotate_key(ctx)
    after = make_checkpoint(platform)
    assert rotated.old_key_id != rotated.new_key_id
    assert platform.keys.audit_signer()[0].key_id == rotated.new_key_id
    assert before.note.split("\n")[4] != after.note.split("\n")[4]  # signed by another key
    result = check(platform, operator)
    assert result.ok, result.problems
    assert result.checkpoints_checked == 2
    with platform.sessionmaker() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.kind == "audit.key_rotated")) == 1


def test_a_forged_rotation_is_caught(platform, operator, samples):
    from synthgov.audit.events import AuditKeyRotated

    label(platform, operator, samples)
    mallory = Sm2Signer.generate()
    with platform.unit_of_work(operator) as ctx:  # an entry appended the honest way, endorsed by the wrong key
        old = platform.keys.audit_signer()[0]
        idx = service.record(ctx, AuditKeyRotated(old.key_id, mallory.key_id, "sm2", mallory.spki.hex(),
                                                  mallory.sign(verification.rotation_message(mallory.spki)).hex()))
    problems = check(platform, operator).problems
    assert problems == [f"entry {idx}: key rotation to {mallory.key_id} is not endorsed by the old key (forged)"]


def test_permissions_granted_by_editing_an_api_key_are_refused(platform, operator):
    from synthgov.errors import Unauthenticated
    from synthgov.identity import service as identity
    from synthgov.identity.models import ApiKey
    from synthgov.permissions import Actor, ActorKind

    with platform.unit_of_work(operator) as ctx:
        made = identity.create_api_key(ctx, name="reader", permissions=["inspect"])
    auth = Actor(ActorKind.SYSTEM, "api-auth")
    with platform.unit_of_work(auth) as ctx:
        assert identity.authenticate(ctx, token=made.token).permissions == frozenset({"inspect"})
    tamper(platform, update(ApiKey).values(permissions=["inspect", "record:read", "audit:manage"]))
    with pytest.raises(Unauthenticated, match="does not match its audit log entry"), \
            platform.unit_of_work(auth) as ctx:
        identity.authenticate(ctx, token=made.token)
    assert f"api_keys {made.key.id}: does not match log entry 1 (edited after it was logged)" in check(
        platform, operator).problems
    tamper(platform, update(ApiKey).values(permissions=["inspect"]))
    with platform.unit_of_work(operator) as ctx:  # a revocation binds the row's new state
        identity.revoke_api_key(ctx, key_id=made.key.id)
    result = check(platform, operator)
    assert result.ok and result.rows_checked == 1, result.problems


def test_a_long_checkpoint_file_and_a_damaged_line(platform, operator, samples):
    label(platform, operator, samples)
    make_checkpoint(platform)
    cp_file = CheckpointFile(platform.policy(AuditPolicy).checkpoint_file)
    line = cp_file.path.read_bytes()
    cp_file.path.write_bytes(line * 3000)  # a year of checkpoints: making the next reads only the tail
    label(platform, operator, samples)
    assert make_checkpoint(platform).size == 3
    assert cp_file.tail().latest.size == 3 and len(cp_file.tail().entries) < 1000
    assert check(platform, operator).ok
    raw = cp_file.path.read_bytes().split(b"\n")
    raw[10] = raw[10][:40] + b"X" + raw[10][41:]
    cp_file.path.write_bytes(b"\n".join(raw))
    problems = check(platform, operator).problems
    assert len(problems) == 1 and problems[0].startswith(f"checkpoint file {cp_file.path} line 11 is damaged")
