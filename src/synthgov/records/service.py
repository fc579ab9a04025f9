"""Generation records: written by labeling, read by tracing and the surfaces.

Reads are permission-checked here, whoever composes them: :func:`view` gives the whole record only
to an actor with ``record:read`` and a :class:`RecordRef` to anyone else (an inspect-only key
learns that a file traces to a record, not who it was made for).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from synthgov.context import Ctx
from synthgov.errors import NotFound
from synthgov.inputs import lookable
from synthgov.permissions import require
from synthgov.records.models import GenerationRecord
from synthgov.records.permissions import RecordsPermission
from synthgov.records.schemas import RecordOut, RecordRef
from synthgov.watermarking.models import WatermarkPayload

if TYPE_CHECKING:
    from synthgov.fingerprints.index import FingerprintIndex

MAX_PRODUCE_ID = 128
CONTENT_HITS = 10  # records per content hash a batch keeps (an input edited many times names many)


def add(ctx: Ctx, record: GenerationRecord) -> GenerationRecord:
    """Add a record in the caller's transaction (the caller authorised the action that made it)."""
    ctx.session.add(record)
    if record.watermark_payload and record.watermark_scheme:
        ctx.session.add(WatermarkPayload(scheme=record.watermark_scheme, payload=record.watermark_payload,
                                         record_id=record.id, created_at=record.created_at))
    return record


def by_produce_id(ctx: Ctx, produce_id: str | None) -> GenerationRecord | None:
    if not lookable(produce_id, MAX_PRODUCE_ID):
        return None
    known = _preloaded(ctx, "produce-id")
    if produce_id in known:
        found: GenerationRecord | None = known[produce_id]
        return found
    return ctx.session.scalar(select(GenerationRecord).where(GenerationRecord.produce_id == produce_id))


def _preloaded(ctx: Ctx, kind: str) -> dict[str, Any]:
    """What :func:`preload` read for this unit of work: ``produce-id`` → record or None,
    ``content`` → SHA-256 → id rows."""
    found: dict[str, Any] = ctx.memo(("records-preloaded", kind), dict)
    return found


def preload(ctx: Ctx, *, produce_ids: Iterable[str | None], sha256s: Iterable[str]) -> None:
    """Read, in one query each, the records a batch of files may trace to (by ProduceID and by
    content hash) and what their log checks need, so that :func:`by_produce_id`, :func:`by_content`
    and :func:`view` then answer each file without a query of their own (``inspect`` of a folder).
    Only a lookup is saved: every answer is the one a query per file would give, in a unit of work
    that reads (what it read is kept until the unit ends: a record added after would not be seen)."""
    from sqlalchemy import or_

    from synthgov.audit.checks import preload_rows
    from synthgov.audit.verification import latest_trusted

    ids = sorted({p for p in produce_ids if p is not None and lookable(p, MAX_PRODUCE_ID)}
                 - _preloaded(ctx, "produce-id").keys())
    by_id = _preloaded(ctx, "produce-id")
    loaded: list[GenerationRecord] = []
    for part in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        by_id.update(dict.fromkeys(part))
        for record in ctx.session.scalars(select(GenerationRecord).where(GenerationRecord.produce_id.in_(part))):
            by_id[record.produce_id] = record
            loaded.append(record)
    digests = sorted(set(sha256s) - _preloaded(ctx, "content").keys())
    content = _preloaded(ctx, "content")
    for part in (digests[i : i + 250] for i in range(0, len(digests), 250)):
        content.update({digest: [] for digest in part})
        for hit in ctx.session.execute(
                select(GenerationRecord.id, GenerationRecord.output_sha256, GenerationRecord.input_sha256,
                       GenerationRecord.created_at)
                .where(or_(GenerationRecord.output_sha256.in_(part), GenerationRecord.input_sha256.in_(part)))):
            for digest in {hit.output_sha256, hit.input_sha256} & set(part):
                content[digest].append(hit)
    for digest, hits in content.items():  # what by_content answers from: its first 2 × its limit, by age
        content[digest] = sorted(hits, key=lambda hit: hit.created_at)[:CONTENT_HITS]
    rows = {r.id: r for r in loaded}
    missing = sorted({hit.id for hits in content.values() for hit in hits} - rows.keys())
    for part in (missing[i : i + 500] for i in range(0, len(missing), 500)):
        rows.update((r.id, r) for r in ctx.session.scalars(select(GenerationRecord)
                                                           .where(GenerationRecord.id.in_(part))))
    if rows and ctx.actor.can(RecordsPermission.RECORD_READ):
        trusted = ctx.memo("latest-trusted-checkpoint", lambda: latest_trusted(ctx.platform))
        preload_rows(ctx, rows.values(), trusted)


def by_watermark(ctx: Ctx, *, scheme: str, payload: str) -> GenerationRecord | None:
    """The record that registered ``payload`` (hex) under a watermark scheme (the payload table)."""
    return ctx.session.scalar(
        select(GenerationRecord).join(WatermarkPayload, WatermarkPayload.record_id == GenerationRecord.id)
        .where(WatermarkPayload.scheme == scheme, WatermarkPayload.payload == payload))


def by_content(ctx: Ctx, *, sha256: str, limit: int = 5) -> list[tuple[str, GenerationRecord]]:
    """Records this exact content (SHA-256) was the ``"output"`` or the ``"input"`` of, outputs first."""
    from sqlalchemy import or_

    known = _preloaded(ctx, "content")
    if sha256 in known and 2 * limit <= CONTENT_HITS:
        hits = known[sha256][: 2 * limit]
    else:
        hits = ctx.session.execute(  # one query for the ids (both columns indexed); the records from the session,
            select(GenerationRecord.id, GenerationRecord.output_sha256, GenerationRecord.input_sha256)  # where the
            .where(or_(GenerationRecord.output_sha256 == sha256, GenerationRecord.input_sha256 == sha256))  # label's
            .order_by(GenerationRecord.created_at).limit(2 * limit)).all()  # trace usually loaded them already
    rows = [(hit, ctx.session.get(GenerationRecord, hit.id)) for hit in hits]
    outputs = [("output", r) for hit, r in rows if r is not None and hit.output_sha256 == sha256][:limit]
    return outputs + [("input", r) for hit, r in rows if r is not None and hit.input_sha256 == sha256][:limit]


def view(ctx: Ctx, record: GenerationRecord) -> RecordOut | RecordRef:
    """The record as this actor may see it; a whole record says whether it matches the log."""
    if ctx.actor.can(RecordsPermission.RECORD_READ):
        return _whole(ctx, record)
    return RecordRef.model_validate(record)


def _whole(ctx: Ctx, record: GenerationRecord) -> RecordOut:
    from synthgov.audit.checks import check_row
    from synthgov.audit.verification import latest_trusted

    def checked() -> RecordOut:
        out = RecordOut.model_validate(record)
        trusted = ctx.memo("latest-trusted-checkpoint", lambda: latest_trusted(ctx.platform))
        out.log = check_row(ctx, record, trusted).to_dict()
        return out

    return ctx.memo(("record-view", record.id, record.log_index), checked).model_copy()


def get(ctx: Ctx, *, produce_id: str) -> RecordOut:
    """The whole record behind a ProduceID (``record:read``), checked against its log entry."""
    require(ctx.actor, RecordsPermission.RECORD_READ)
    record = by_produce_id(ctx, produce_id)
    if record is None:
        raise NotFound(f"no generation record with ProduceID {produce_id!r}")
    return _whole(ctx, record)


@dataclass(frozen=True)
class FingerprintMatch:
    record: GenerationRecord
    distance: int
    variant: int


def fingerprint_index(ctx: Ctx, *, modality: str) -> FingerprintIndex:
    """The stored fingerprints of one modality's records (the linear reference index)."""
    from synthgov.fingerprints.index import LinearIndex  # numpy: only where a fingerprint is searched

    rows = ctx.session.execute(
        select(GenerationRecord.id, GenerationRecord.fingerprint).where(
            GenerationRecord.modality == modality, GenerationRecord.fingerprint.is_not(None))
    ).all()
    index = LinearIndex()
    index.add([r[0] for r in rows], [bytes(r[1] or b"") for r in rows])
    return index


def by_fingerprint(ctx: Ctx, *, modality: str, variants: list[bytes], max_distance: int,
                   limit: int = 5) -> list[FingerprintMatch]:
    """Records whose stored fingerprint is within ``max_distance`` of any query variant, nearest first."""
    hits = fingerprint_index(ctx, modality=modality).search(variants, max_distance=max_distance, limit=limit)
    out = []
    for hit in hits:
        record = ctx.session.get(GenerationRecord, hit.key)
        if record is not None:
            out.append(FingerprintMatch(record, hit.distance, hit.variant))
    return out
