"""Generation records: written by labeling, read by tracing and the surfaces.

Reads are permission-checked here, whoever composes them: :func:`view` gives the whole record only
to an actor with ``record:read`` and a :class:`RecordRef` to anyone else (an inspect-only key
learns that a file traces to a record, not who it was made for).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from synthgov.context import Ctx
from synthgov.errors import NotFound
from synthgov.fingerprints.index import FingerprintIndex, LinearIndex
from synthgov.permissions import require
from synthgov.records.models import GenerationRecord
from synthgov.records.permissions import RecordsPermission
from synthgov.records.schemas import RecordOut, RecordRef
from synthgov.watermarking.models import WatermarkPayload

MAX_PRODUCE_ID = 128


def add(ctx: Ctx, record: GenerationRecord) -> GenerationRecord:
    """Add a record in the caller's transaction (the caller authorised the action that made it)."""
    ctx.session.add(record)
    if record.watermark_payload and record.watermark_scheme:
        ctx.session.add(WatermarkPayload(scheme=record.watermark_scheme, payload=record.watermark_payload,
                                         record_id=record.id, created_at=record.created_at))
    return record


def by_produce_id(ctx: Ctx, produce_id: str | None) -> GenerationRecord | None:
    if not produce_id or len(produce_id) > MAX_PRODUCE_ID:
        return None
    return ctx.session.scalar(select(GenerationRecord).where(GenerationRecord.produce_id == produce_id))


def by_watermark(ctx: Ctx, *, scheme: str, payload: str) -> GenerationRecord | None:
    """The record that registered ``payload`` (hex) under a watermark scheme (the payload table)."""
    return ctx.session.scalar(
        select(GenerationRecord).join(WatermarkPayload, WatermarkPayload.record_id == GenerationRecord.id)
        .where(WatermarkPayload.scheme == scheme, WatermarkPayload.payload == payload))


def by_content(ctx: Ctx, *, sha256: str, limit: int = 5) -> list[tuple[str, GenerationRecord]]:
    """Records this exact content (SHA-256) was the ``"output"`` or the ``"input"`` of, outputs first."""
    from sqlalchemy import or_

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
