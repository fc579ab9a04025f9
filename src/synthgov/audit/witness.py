"""This instance as a witness of other logs (c2sp.org/tlog-witness ``add-checkpoint``).

A witness keeps, per log origin, the latest checkpoint it cosigned; it cosigns a new one only when
the log's signature verifies against a configured key and a consistency proof leads from the old
checkpoint to the new. Another synthgov instance is the usual witness of a provider's log; any
C2SP witness (for example the transparency-dev witness) serves as well.
"""

from __future__ import annotations

import base64
import time
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from synthgov.audit.merkle import ProofError, Tree
from synthgov.audit.models import WitnessedCheckpoint
from synthgov.audit.notes import COSIGNATURE_V1, Checkpoint, NoteError, Verifier, cosign, parse_note, raw_ed25519
from synthgov.audit.policy import AuditPolicy
from synthgov.context import Ctx
from synthgov.errors import Conflict, Forbidden, InvalidInput, NotFound, SynthgovError

MAX_BODY = 64 * 1024
MAX_PROOF = 63


class BadRequest(SynthgovError):
    status, code, title = 400, "bad-request", "Malformed request"


class SizeConflict(Conflict):
    """The old size is not the size this witness last cosigned (the answer body is that size)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size}")
        self.size = size


class InconsistentProof(SynthgovError):
    status, code, title = 422, "inconsistent", "Consistency proof does not verify"


def witness_verifier(ctx: Ctx) -> Verifier:
    """This witness's public key, as logs configure it (``audit_witnesses[].key``)."""
    public = raw_ed25519(ctx.platform.keys.witness_signer.spki)
    return Verifier(ctx.policy(AuditPolicy).witness_name, COSIGNATURE_V1, public)


def _parse(body: bytes) -> tuple[int, list[bytes], str]:
    if len(body) > MAX_BODY:
        raise BadRequest(f"request body is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("request body is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old "):
        raise BadRequest("body must be an 'old <size>' line, proof lines, a blank line and a checkpoint")
    old_text = lines[0][4:]
    if not old_text.isdigit() or (old_text != "0" and old_text.startswith("0")):
        raise BadRequest("old size is not a decimal number")
    if len(lines) - 1 > MAX_PROOF:
        raise BadRequest(f"more than {MAX_PROOF} consistency proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except ValueError as exc:
        raise BadRequest("a consistency proof line is not base64") from exc
    if any(len(p) != 32 for p in proof):
        raise BadRequest("a consistency proof line is not a 32-byte hash")
    return int(old_text), proof, note


def add_checkpoint(ctx: Ctx, *, body: bytes) -> str:
    """Check and cosign one checkpoint; returns the cosignature line. Raises :class:`SizeConflict`
    (409), :class:`NotFound` (unknown origin), :class:`Forbidden` (no trusted signature),
    :class:`InconsistentProof` (422) or :class:`BadRequest`."""
    policy = ctx.policy(AuditPolicy)
    old, proof, note_text = _parse(body)
    try:
        note = parse_note(note_text)
        checkpoint = Checkpoint.from_text(note.text)
    except NoteError as exc:
        raise BadRequest(f"not a checkpoint: {exc}") from exc
    log = next((w for w in policy.witnessed if w.origin == checkpoint.origin), None)
    if log is None:
        raise NotFound(f"this witness does not witness the log {checkpoint.origin!r}")
    try:
        verifiers = [Verifier.parse(k) for k in log.keys]
        trusted = note.verified_by(verifiers)
    except NoteError as exc:
        raise Forbidden(str(exc)) from exc
    if not trusted:
        raise Forbidden(f"the checkpoint is not signed by a key this witness trusts for {checkpoint.origin!r}")
    if old > checkpoint.size:
        raise BadRequest(f"old size {old} is larger than the checkpoint's size {checkpoint.size}")
    session = ctx.session
    stmt = select(WitnessedCheckpoint).where(WitnessedCheckpoint.origin == checkpoint.origin)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    state = session.scalars(stmt).one_or_none()
    current = state.size if state else 0
    if old != current:
        raise SizeConflict(current)
    tree = Tree(log.hash_alg)
    if state is not None and old == checkpoint.size:
        if state.root != checkpoint.root:
            raise SizeConflict(current)
    elif old == 0:
        if proof:
            raise BadRequest("the proof must be empty when the old size is 0")
    else:
        assert state is not None
        try:
            tree.verify_consistency(old, checkpoint.size, state.root, checkpoint.root, proof)
        except ProofError as exc:
            raise InconsistentProof(
                f"consistency proof from {old} to {checkpoint.size} does not verify: {exc}") from exc
    cosignature = cosign(note, policy.witness_name, ctx.platform.keys.witness_signer, int(time.time()))
    values = {"size": checkpoint.size, "root": checkpoint.root, "note": str(note.with_signatures([cosignature])),
              "updated_at": ctx.clock()}
    table = cast(Table, WitnessedCheckpoint.__table__)

    def now_size() -> int:
        return session.scalar(select(table.c.size).where(table.c.origin == checkpoint.origin)) or 0

    conn = session.connection()
    try:
        if state is None:
            with session.begin_nested():
                session.connection().execute(insert(table).values(origin=checkpoint.origin, **values))
        else:
            done = conn.execute(update(table).where(table.c.origin == checkpoint.origin, table.c.size == old)
                                .values(**values))
            if done.rowcount != 1:  # another request moved it first
                raise SizeConflict(now_size())
    except IntegrityError as exc:
        raise SizeConflict(now_size()) from exc
    return cosignature.line


def latest(ctx: Ctx, *, origin: str) -> str:
    """The latest checkpoint this witness cosigned for ``origin`` (its note and the log's signatures)."""
    state = ctx.session.get(WitnessedCheckpoint, origin)
    if state is None:
        raise NotFound(f"this witness has cosigned no checkpoint of {origin!r}")
    return state.note


def check_config(ctx: Ctx) -> None:
    for log in ctx.policy(AuditPolicy).witnessed:
        for key in log.keys:
            try:
                Verifier.parse(key)
            except NoteError as exc:
                raise InvalidInput(f"witness_logs {log.origin}: {exc}") from exc
