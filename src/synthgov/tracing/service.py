"""Inspect content: every label, its conformance, its signature, and the record it traces to."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from sqlalchemy import select

from synthgov.context import Ctx
from synthgov.errors import CorruptMedia, NotFound, SynthgovError, UnsupportedMedia, WatermarkUnsupported
from synthgov.labeling.models import GenerationRecord
from synthgov.labeling.schemas import RecordOut
from synthgov.labeling.service import check_size
from synthgov.modalities.base import Fingerprinter, MetadataLabeler, Watermarker
from synthgov.permissions import Permission, require
from synthgov.provenance.label import signed_message
from synthgov.provenance.signing import SignatureCheck, check_security_data


class Status(StrEnum):
    LABELED = "labeled"  # one conformant label
    NONCONFORMANT = "nonconformant"  # labels present, but something is wrong with them
    UNLABELED = "unlabeled"
    ERROR = "error"  # the file could not be read


@dataclass
class LabelFinding:
    location: str
    form: str | None
    fields: dict
    conformant: bool
    problems: list[str]
    notes: list[str]
    signature: dict
    propagation_signature: dict | None
    record: dict | None
    content_matches_record: bool | None


@dataclass
class Inspection:
    name: str | None
    status: Status
    format: str | None = None
    media_type: str | None = None
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
    labels: list[LabelFinding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    watermark: dict | None = None  # None: not looked for (metadata already traced it)
    fingerprint_matches: list[dict] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _check(reserved: str, message: bytes, pinned: set[str]) -> dict:
    result: SignatureCheck = check_security_data(reserved, message, pinned)
    return {"verdict": result.verdict.value, "key_id": result.key_id, "detail": result.detail}


def find_record(ctx: Ctx, produce_id: str) -> GenerationRecord | None:
    if not produce_id or len(produce_id) > 128:
        return None
    return ctx.session.scalar(select(GenerationRecord).where(GenerationRecord.produce_id == produce_id))


def inspect_content(ctx: Ctx, *, data: bytes, name: str | None = None, deep: bool = False) -> Inspection:
    """Read and verify every label in ``data``; trace it by watermark, then by fingerprint, when the
    metadata does not lead to a record (or always, with ``deep``). Bad input raises a SynthgovError."""
    require(ctx.actor, Permission.INSPECT)
    check_size(ctx, len(data))
    if not data:
        raise CorruptMedia("file is empty (0 bytes)")
    handler = ctx.registry.for_data(data)
    if not isinstance(handler, MetadataLabeler):
        raise UnsupportedMedia(f"{handler.modality} content has no metadata-label reader yet")
    report = handler.read_labels(data)
    digest = hashlib.sha256(data).hexdigest()
    pinned = ctx.platform.pinned_key_ids
    findings = []
    for found in report.labels:
        parsed = found.parsed
        message = signed_message(parsed.get("Label"), parsed.get("ContentProducer"), parsed.get("ProduceID"))
        signature = _check(parsed.get("ReservedCode1"), message, pinned)
        propagation = None
        if parsed.get("ReservedCode2"):
            propagation = _check(
                parsed.get("ReservedCode2"),
                signed_message(parsed.get("Label"), parsed.get("ContentPropagator"), parsed.get("PropagateID")),
                pinned,
            )
        record = find_record(ctx, parsed.get("ProduceID"))
        findings.append(
            LabelFinding(
                location=found.location,
                form=parsed.form.value if parsed.form else None,
                fields=parsed.fields,
                conformant=parsed.conformant,
                problems=list(parsed.problems),
                notes=list(found.notes),
                signature=signature,
                propagation_signature=propagation,
                record=RecordOut.model_validate(record).model_dump(mode="json") if record else None,
                content_matches_record=(record.output_sha256 == digest) if record else None,
            )
        )
    traced = any(f.record for f in findings)
    mark = None
    if (deep or not traced) and isinstance(handler, Watermarker) and ctx.settings.watermark:
        mark = read_watermark(ctx, data=data, handler=handler)
        traced = traced or bool(mark.get("record"))
    matches: list[dict] = []
    if (deep or not traced) and isinstance(handler, Fingerprinter):
        matches = find_by_fingerprint(ctx, variants=handler.fingerprint_variants(data), handler=handler)
    if not findings:
        status = Status.UNLABELED
    elif report.problems or any(not f.conformant or f.signature["verdict"] == "tampered" for f in findings):
        status = Status.NONCONFORMANT
    else:
        status = Status.LABELED
    info = report.info
    return Inspection(
        name=name,
        status=status,
        format=info.format,
        media_type=info.media_type,
        width=info.width,
        height=info.height,
        sha256=digest,
        labels=findings,
        problems=list(report.problems),
        notes=list(report.notes),
        watermark=mark,
        fingerprint_matches=matches,
    )


def inspect_or_error(ctx: Ctx, *, data: bytes, name: str | None = None, deep: bool = False) -> Inspection:
    """Like :func:`inspect_content`, but a bad file becomes an ``error`` entry (for batches)."""
    try:
        return inspect_content(ctx, data=data, name=name, deep=deep)
    except SynthgovError as exc:
        if exc.status in (401, 403):
            raise
        return Inspection(name=name, status=Status.ERROR, error=str(exc))


def read_watermark(ctx: Ctx, *, data: bytes, handler) -> dict:
    """Look for this provider's watermark; trace its payload to the record that registered it."""
    try:
        reading = handler.detect_watermark(data, ctx.platform.watermark_key)
    except WatermarkUnsupported as exc:
        return {"present": False, "checked": False, "detail": str(exc)}
    if reading is None:
        return {"present": False, "checked": True}
    payload = f"{reading.payload:016x}"
    record = ctx.session.scalar(select(GenerationRecord).where(GenerationRecord.watermark_payload == payload))
    return {
        "present": True,
        "checked": True,
        "payload": payload,
        "confidence": reading.confidence,
        "detail": reading.detail,
        "record": RecordOut.model_validate(record).model_dump(mode="json") if record else None,
    }


def find_by_fingerprint(ctx: Ctx, *, variants: list[bytes], handler, limit: int = 5) -> list[dict]:
    """Records whose stored fingerprint is within the match distance of any query variant.

    Reference algorithm: a linear scan with numpy over all stored fingerprints (about 32 MB per
    million records). A faiss binary index can replace it behind the same function.
    """
    import numpy as np

    from synthgov.modalities.image.fingerprint import distances

    rows = ctx.session.execute(
        select(GenerationRecord.id, GenerationRecord.fingerprint).where(
            GenerationRecord.modality == handler.modality, GenerationRecord.fingerprint.is_not(None))
    ).all()
    if not rows or not variants:
        return []
    ids = [r[0] for r in rows]
    table = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.uint8).reshape(len(rows), -1)
    per_variant = np.stack([distances(v, table) for v in variants])
    best_variant = per_variant.argmin(axis=0)
    best = per_variant.min(axis=0)
    limit_distance = ctx.settings.fingerprint_max_distance
    order = [i for i in np.argsort(best, kind="stable")[:limit] if best[i] <= limit_distance]
    out = []
    for i in order:
        record = ctx.session.get(GenerationRecord, ids[i])
        out.append({
            "match": "fingerprint",
            "distance": int(best[i]),
            "variant": int(best_variant[i]),
            "record": RecordOut.model_validate(record).model_dump(mode="json"),
        })
    return out


def get_record(ctx: Ctx, *, produce_id: str) -> GenerationRecord:
    require(ctx.actor, Permission.RECORD_READ)
    record = find_record(ctx, produce_id)
    if record is None:
        raise NotFound(f"no generation record with ProduceID {produce_id!r}")
    return record
