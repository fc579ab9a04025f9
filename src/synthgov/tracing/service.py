"""Inspect content: every label, its conformance, its signature, and the record it traces to.

Records are read through the records domain, which decides how much of each this actor may see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthgov.context import Ctx
from synthgov.errors import CorruptMedia, SynthgovError, WatermarkUnsupported
from synthgov.inputs import check_content
from synthgov.modalities.base import Fingerprinter, Handler, MetadataReader, MetadataReport, Watermarker
from synthgov.permissions import require
from synthgov.provenance.label import signed_message
from synthgov.provenance.signing import SignatureCheck, SignatureVerdict, check_security_data
from synthgov.records import service as records
from synthgov.records.schemas import RecordOut, RecordRef
from synthgov.tracing.permissions import TracingPermission
from synthgov.tracing.policy import TracingPolicy
from synthgov.tracing.schemas import (
    ContentMatch,
    EncodedInspection,
    FingerprintFinding,
    Inspection,
    LabelFinding,
    Relation,
    Status,
    WatermarkFinding,
)

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform

__all__ = ["Inspection", "Status", "inspect_content", "inspect_files", "inspect_files_encoded", "inspect_or_error"]


def _check(reserved: str, message: bytes, pinned: set[str]) -> SignatureCheck:
    return check_security_data(reserved, message, pinned)


@dataclass(frozen=True)
class _Reading:
    """A file's labels as read, before anything is looked up (a batch reads all its files first)."""

    handler: Handler
    report: MetadataReport
    digest: str


def _read(ctx: Ctx, data: bytes) -> _Reading:
    require(ctx.actor, TracingPermission.INSPECT)
    check_content(data, ctx.policy(TracingPolicy).max_input_bytes)
    handler = ctx.registry.for_data(data)
    reader = ctx.registry.capability(handler, MetadataReader, "has no metadata-label reader yet")
    return _Reading(handler, reader.read_labels(data), hashlib.sha256(data).hexdigest())


def inspect_content(ctx: Ctx, *, data: bytes, name: str | None = None, deep: bool = False,
                    search: bool = True, reading: _Reading | None = None) -> Inspection:
    """Read and verify every label in ``data``; trace it by watermark, then by fingerprint, when the
    metadata does not lead to a record (or always, with ``deep``; never, with ``search=False``: the
    metadata alone, as a generic reader would). Bad input raises a SynthgovError. ``reading`` is
    what :func:`_read` made of ``data`` already (a batch)."""
    reading = reading or _read(ctx, data)
    policy = ctx.policy(TracingPolicy)
    handler, report, digest = reading.handler, reading.report, reading.digest
    pinned = ctx.platform.keys.pinned_key_ids
    findings = []
    for found in report.labels:
        parsed = found.parsed
        message = signed_message(parsed.get("Label"), parsed.get("ContentProducer"), parsed.get("ProduceID"))
        propagation = None
        if parsed.get("ReservedCode2"):
            propagation = _check(
                parsed.get("ReservedCode2"),
                signed_message(parsed.get("Label"), parsed.get("ContentPropagator"), parsed.get("PropagateID")),
                pinned,
            )
        record = records.by_produce_id(ctx, parsed.get("ProduceID"))
        findings.append(
            LabelFinding(
                location=found.location,
                form=parsed.form.value if parsed.form else None,
                fields=parsed.fields,
                conformant=found.conformant,
                problems=found.problems,
                notes=list(found.notes),
                signature=_check(parsed.get("ReservedCode1"), message, pinned),
                propagation_signature=propagation,
                record=records.view(ctx, record) if record else None,
                content_matches_record=(record.output_sha256 == digest) if record else None,
            )
        )
    traced = any(f.record for f in findings)
    mark = None
    notes = list(report.notes)
    undecodable = None  # a damaged container may hold labels but no pixels to search
    if search and (deep or not traced) and isinstance(handler, Watermarker) and policy.watermark:
        try:
            mark = read_watermark(ctx, data=data, handler=handler)
            traced = traced or mark.record is not None
        except CorruptMedia as exc:
            undecodable = exc
    exact = [ContentMatch(Relation(relation), records.view(ctx, record))
             for relation, record in records.by_content(ctx, sha256=digest)]
    inputs = {m.record.id for m in exact if m.relation is Relation.INPUT}
    matches: list[FingerprintFinding] = []
    if search and (deep or not traced) and isinstance(handler, Fingerprinter) and undecodable is None:
        try:
            matches = find_by_fingerprint(ctx, data=data, handler=handler)
        except CorruptMedia as exc:
            undecodable = exc
        for m in matches:
            m.also_input = m.record.id in inputs
    if undecodable is not None:
        if not any(problem.startswith("container damaged") for problem in report.problems):
            raise undecodable  # a sound container whose pixels do not decode: the file is not an image
        notes.append(f"no watermark or fingerprint search: the pixels cannot be decoded ({undecodable})")
    notes.extend(m.says for m in exact)
    if inputs and not findings and not (mark and mark.present):
        notes.append("this file is the unmodified input of an edit, not content this provider generated")
    if not (mark and mark.present):
        notes.extend(_weak_mark_notes([f.record for f in findings] + [m.record for m in matches]))
    if not findings:
        status = Status.UNLABELED
    elif report.problems or any(not f.conformant or f.signature.verdict is SignatureVerdict.TAMPERED
                                for f in findings):
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
        notes=notes,
        watermark=mark,
        fingerprint_matches=matches,
        content_matches=exact,
    )


def _weak_mark_notes(found: list[RecordOut | RecordRef | None]) -> list[str]:
    """Why a record's mark may be missing: the record itself said its mark was not robust."""
    from synthgov.watermarking.scheme import margin_text

    notes, seen = [], set()
    for record in found:
        strength = getattr(record, "watermark_strength", None)
        if record is None or record.id in seen or not strength or strength.get("expected") == "robust":
            continue
        seen.add(record.id)
        article = "an" if strength["expected"][0] in "aeiou" else "a"
        notes.append(f"record {record.id} made {article} {strength['expected']} watermark ({margin_text(strength)}): "
                     f"{strength['note']}")
    return notes


def inspect_or_error(ctx: Ctx, *, data: bytes, name: str | None = None, deep: bool = False,
                     search: bool = True, reading: _Reading | None = None) -> Inspection:
    """Like :func:`inspect_content`, but a bad file becomes an ``error`` entry (for batches)."""
    try:
        return inspect_content(ctx, data=data, name=name, deep=deep, search=search, reading=reading)
    except SynthgovError as exc:
        return _error(name, exc)


def _error(name: str | None, exc: SynthgovError) -> Inspection:
    if exc.status in (401, 403):
        raise exc
    return Inspection(name=name, status=Status.ERROR, error=str(exc))


def read_watermark(ctx: Ctx, *, data: bytes, handler: Watermarker) -> WatermarkFinding:
    """Look for this provider's watermark; trace its payload to the record that registered it."""
    scheme = handler.watermark_scheme
    try:
        reading = handler.detect_watermark(data, ctx.platform.keys.watermark_key(scheme))
    except WatermarkUnsupported as exc:
        return WatermarkFinding(present=False, checked=False, scheme=scheme, detail=str(exc))
    if reading is None:
        return WatermarkFinding(present=False, checked=True, scheme=scheme)
    payload = f"{reading.payload:016x}"
    record = records.by_watermark(ctx, scheme=reading.scheme, payload=payload)
    return WatermarkFinding(present=True, checked=True, scheme=reading.scheme, payload=payload,
                            confidence=reading.confidence, detail=reading.detail,
                            record=records.view(ctx, record) if record else None)


def find_by_fingerprint(ctx: Ctx, *, data: bytes, handler: Handler, limit: int = 5) -> list[FingerprintFinding]:
    """Records whose stored fingerprint is near any of the content's query variants."""
    fingerprinter = ctx.registry.capability(handler, Fingerprinter, "has no fingerprint")
    matches = records.by_fingerprint(ctx, modality=handler.modality, variants=fingerprinter.fingerprint_variants(data),
                                     max_distance=ctx.policy(TracingPolicy).fingerprint_max_distance, limit=limit)
    return [FingerprintFinding(m.distance, m.variant, records.view(ctx, m.record)) for m in matches]


BATCH_BYTES = 64 << 20  # a batch's files are held in memory from reading to judging: at most about this much


def inspect_files(platform: Platform, items: list[dict[str, Any]]) -> Iterator[Inspection]:
    """A batch worker's task (``synthgov inspect PATH...``): each item is ``{"path", "actor", "deep",
    "search"}``; one unit of work for the chunk, a bad file an ``error`` result. The files are read
    first (up to ``BATCH_BYTES`` at a time), then the records they name are looked up together
    (:func:`records.preload`: one query for the lot, not several per file), then each is judged."""
    from pathlib import Path

    from synthgov.inputs import read_input
    from synthgov.permissions import Actor

    actor = Actor.operator(items[0]["actor"]) if items else Actor.operator()
    with platform.unit_of_work(actor) as ctx:
        limit = ctx.policy(TracingPolicy).max_input_bytes
        batch: list[tuple[dict[str, Any], bytes, _Reading | Inspection]] = []
        held = 0
        for n, item in enumerate(items):
            try:
                data = read_input(Path(item["path"]), limit)
            except SynthgovError as exc:
                batch.append((item, b"", _error(item["path"], exc)))
            else:
                try:
                    batch.append((item, data, _read(ctx, data)))
                except SynthgovError as exc:
                    batch.append((item, b"", _error(item["path"], exc)))
                held += len(data)
            if held >= BATCH_BYTES or n == len(items) - 1:
                yield from _judge_batch(ctx, batch)
                batch, held = [], 0


def inspect_files_encoded(platform: Platform, items: list[dict[str, Any]]) -> Iterator[EncodedInspection]:
    """:func:`inspect_files`, each result as its JSON text (``--json`` and ``--jsonl``: the workers
    encode, in parallel, what the command's one process would otherwise encode for all of them)."""
    for result in inspect_files(platform, items):
        yield result.encoded()


def _judge_batch(ctx: Ctx, batch: list[tuple[dict[str, Any], bytes, _Reading | Inspection]]) -> Iterator[Inspection]:
    readings = [reading for _, _, reading in batch if isinstance(reading, _Reading)]
    records.preload(ctx, produce_ids=[found.parsed.get("ProduceID") for r in readings for found in r.report.labels],
                    sha256s=[r.digest for r in readings])
    for item, data, reading in batch:
        if isinstance(reading, Inspection):
            yield reading
        else:
            yield inspect_or_error(ctx, data=data, name=item["path"], deep=item["deep"], search=item["search"],
                                   reading=reading)
