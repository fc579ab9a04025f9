"""``audit verify`` as a whole: the log against itself, against the checkpoints outside the
database (the checkpoint file, ``--checkpoint`` sources) and against the witnesses, and the key
rotations it records. Everything checked is re-derived; nothing is taken from a column."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

from synthgov.audit import checks, service
from synthgov.audit.checkpoints import (
    CheckpointFile,
    CheckpointRefused,
    FileReading,
    WitnessUnreachable,
    fetch_checkpoints,
    log_verifiers,
    make_checkpoint,
)
from synthgov.audit.events import AuditKeyRotated
from synthgov.audit.models import AuditEvent
from synthgov.audit.notes import NoteError, Verifier, log_verifier
from synthgov.audit.policy import AuditPolicy
from synthgov.context import Ctx
from synthgov.permissions import Actor

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform

ROTATION_HEADER = b"synthgov/audit-key-rotation/v1\n"


def rotation_message(new_spki: bytes) -> bytes:
    return ROTATION_HEADER + new_spki.hex().encode()


def trusted_checkpoints(reading: FileReading, source: str, verifiers: list[Verifier],
                        problems: list[str]) -> list[checks.TrustedCheckpoint]:
    """The checkpoints of ``reading`` whose log signature verifies; the others become problems."""
    problems.extend(reading.problems)
    out = []
    previous = None
    origins = {v.name for v in verifiers}
    for stored in reading.entries:
        cp = stored.checkpoint
        if cp.origin not in origins:
            continue  # another log's checkpoint (a shared file, a witness's answer for another origin)
        try:
            good = stored.note.verified_by(verifiers)
        except NoteError as exc:
            problems.append(f"{source}: checkpoint of size {cp.size}: {exc}")
            continue
        if not good:
            problems.append(f"{source}: the checkpoint of size {cp.size} is not signed by any key of this log "
                            "(forged, or re-signed with another key)")
            continue
        if previous is not None and cp.size < previous:
            problems.append(f"{source}: checkpoint of size {cp.size} follows one of size {previous} (rolled back)")
        previous = cp.size
        out.append(checks.TrustedCheckpoint(cp.size, cp.root, source))
    return out


def latest_trusted(platform: Platform) -> checks.TrustedCheckpoint | None:
    """The newest checkpoint of the checkpoint file whose signature verifies (for ``records show``
    and ``inspect``: is this record's entry in a checkpoint that left the database?)."""
    policy = platform.policy(AuditPolicy)
    try:
        stat = os.stat(policy.checkpoint_file)
        seen: tuple | None = (str(policy.checkpoint_file), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError:
        seen = None
    cached = platform.caches.get("latest-trusted-checkpoint")
    if seen is not None and cached is not None and cached[0] == seen:
        return cached[1]  # the file is as it was when its signatures were checked: the same answer
    found = trusted_checkpoints(CheckpointFile(policy.checkpoint_file).read(), str(policy.checkpoint_file),
                                log_verifiers(platform), [])
    latest = max(found, key=lambda c: c.size) if found else None
    platform.caches["latest-trusted-checkpoint"] = (seen, latest)
    return latest


def verify(platform: Platform, actor: Actor, *, sources: list[str] = (),  # type: ignore[assignment]
           witnesses: bool = True, progress: Callable[[int], None] | None = None,
           total: Callable[[int], None] | None = None) -> checks.LogVerification:
    policy = platform.policy(AuditPolicy)
    verifiers = log_verifiers(platform)
    problems: list[str] = []
    notes: list[str] = []
    checkpoints = trusted_checkpoints(CheckpointFile(policy.checkpoint_file).read(), str(policy.checkpoint_file),
                                      verifiers, problems)
    if not checkpoints:
        notes.append(f"no signed checkpoint in {policy.checkpoint_file} yet")
    for source in sources:
        try:
            reading = fetch_checkpoints(source)
        except (WitnessUnreachable, CheckpointRefused) as exc:
            problems.append(str(exc))
            continue
        found = trusted_checkpoints(reading, source, verifiers, problems)
        if not found and not reading.problems:
            problems.append(f"{source} holds no checkpoint of this log ({policy.origin})")
        checkpoints.extend(found)
    with platform.unit_of_work(actor) as ctx:
        if total:
            total(service.log_state(ctx)[0])
        result = checks.verify_log(ctx, progress=progress, checkpoints=checkpoints)
        result.problems.extend(_rotation_problems(ctx, platform))
    result.problems[:0] = problems
    result.notes[:0] = notes
    if witnesses and policy.witnesses:
        if not result.ok:
            result.notes.append("witnesses not asked: the log failed the checks above")
        else:
            try:
                outcome = make_checkpoint(platform, force=True)
            except CheckpointRefused as exc:
                result.problems.append(str(exc))
            else:
                result.problems.extend(outcome.problems)
                result.notes.extend(f"not checked: {u}" for u in outcome.unreachable)
                cosigned = [name for name, said in outcome.witnesses.items() if said == "cosigned"]
                if cosigned:
                    result.notes.append(f"witnesses {', '.join(cosigned)} cosigned the log at size {outcome.size}")
    return result


def _rotation_problems(ctx: Ctx, platform: Platform) -> list[str]:
    """Each ``audit.key_rotated`` entry must be endorsed by a key this log trusts, and name its new
    key's id correctly."""
    from synthgov.provenance.signing import key_id

    known = {key_id(spki): (spki, alg) for spki, alg in platform.keys.audit_public_keys()}
    problems = []
    rows = ctx.session.execute(select(AuditEvent.idx, AuditEvent.private)
                               .where(AuditEvent.kind == AuditKeyRotated.kind).order_by(AuditEvent.idx)).all()
    for idx, private in rows:
        if private is None:
            continue  # purged: only its hash is left
        payload = json.loads(private)["payload"]
        old = known.get(payload.get("old_key_id", ""))
        try:
            new_spki = bytes.fromhex(payload["new_public_key"])
            endorsement = bytes.fromhex(payload["endorsement"])
        except (KeyError, ValueError):
            problems.append(f"entry {idx}: key rotation without a readable key or endorsement")
            continue
        if key_id(new_spki) != payload.get("new_key_id"):
            problems.append(f"entry {idx}: key rotation names key {payload.get('new_key_id')} but carries another")
        if old is None:
            problems.append(f"entry {idx}: key rotation from key {payload.get('old_key_id')}, which this log never "
                            "had")
            continue
        verifier = log_verifier("x", old[0], old[1])
        if not verifier.verify(rotation_message(new_spki), endorsement):
            problems.append(f"entry {idx}: key rotation to {payload.get('new_key_id')} is not endorsed by the old "
                            "key (forged)")
        known.setdefault(key_id(new_spki), (new_spki, payload.get("sig_alg", "")))
    return problems


def rotate_key(ctx: Ctx) -> AuditKeyRotated:
    """Make a new audit signing key, log the rotation endorsed by the old key, and use the new key
    once the entry is committed. Old checkpoints keep verifying with the old key (kept on disk)."""
    from synthgov.audit.permissions import AuditPermission
    from synthgov.permissions import require

    require(ctx.actor, AuditPermission.AUDIT_MANAGE)
    keys = ctx.platform.keys
    old, _ = keys.audit_signer()
    new, alg, path = keys.new_audit_key()
    event = AuditKeyRotated(old.key_id, new.key_id, alg, new.spki.hex(), old.sign(rotation_message(new.spki)).hex())
    service.record(ctx, event)
    ctx.on_rollback(lambda: path.unlink(missing_ok=True))
    ctx.on_commit(lambda: keys.activate_audit_key(new.key_id))
    return event

