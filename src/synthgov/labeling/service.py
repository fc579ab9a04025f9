"""Label generated content and record how it was made, in one transaction (architecture rule 5).

The service decides the plan (which labels, their specs, the watermark payload), the modality
handler applies it in one pass, and the record, its watermark payload and the audit entry land in
the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete

from synthgov.audit import service as audit
from synthgov.context import Ctx
from synthgov.errors import Conflict, InvalidInput
from synthgov.files import folder_of
from synthgov.inputs import check_content, check_text, read_input
from synthgov.labeling.events import ContentLabeled
from synthgov.labeling.models import IdempotentRequest
from synthgov.labeling.outputs import PendingOutput, Recovered, file_mode, recover
from synthgov.labeling.permissions import LabelingPermission
from synthgov.labeling.policy import LabelingPolicy
from synthgov.modalities.base import FormatInfo, Labeled, Labeler, LabelPlan, MediaInfo, Watermarker, WatermarkOrder
from synthgov.permissions import require
from synthgov.provenance.label import AigcLabel, LabelValue, parse_label_text, signed_message
from synthgov.records import service as records
from synthgov.records.models import GenerationRecord

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform

LOG = logging.getLogger("synthgov.labeling")
IDEMPOTENCY_HOURS = 24  # how long a request with an Idempotency-Key is remembered
GROUP_BYTES = 64 << 20  # a batch group commits early once its outputs, held until the commit, reach this


@dataclass
class LabelOutcome:
    record: GenerationRecord
    data: bytes
    label: AigcLabel
    media: MediaInfo
    geometry: dict[str, Any] | None
    pending: str | None = None  # committed, but the output is still at this temporary path (recovery moves it)
    replayed: bool = False  # the answer to an earlier request with the same Idempotency-Key


def new_produce_id() -> str:
    return uuid.uuid4().hex


def check_extension(ctx: Ctx, name: str | None, fmt: FormatInfo, role: str = "input") -> None:
    """A known media extension that disagrees with the content is an error, not a guess."""
    if not name:
        return
    suffix = Path(name).suffix.lower()
    if suffix in ctx.registry.extensions() and suffix not in fmt.extensions:
        raise InvalidInput(
            f"{role} name {Path(name).name!r} says {suffix} but the content is {fmt.format}; "
            f"use one of {', '.join(fmt.extensions)}"
        )


def _metadata_label(ctx: Ctx, produce_id: str) -> AigcLabel:
    producer = ctx.platform.provider.code
    signer = ctx.platform.keys.label_signer
    reserved = signer.security_data(signed_message(LabelValue.IS_AI, producer, produce_id)) if signer else ""
    return AigcLabel.first_write(
        label=LabelValue.IS_AI.value, producer=producer, produce_id=produce_id, reserved1=reserved
    ).validate()


def label_content(
    ctx: Ctx,
    *,
    data: bytes,
    filename: str | None = None,
    user: str | None = None,
    visible: bool = True,
    watermark: bool | None = None,
    service: str | None = None,
    model: str | None = None,
    idempotency_key: str | None = None,
) -> LabelOutcome:
    """Embed the watermark, draw the visible label, write the metadata label; add the record.

    ``watermark=None`` follows the ``watermark`` setting. With ``visible=False`` and
    ``watermark=False`` the pixels are untouched (metadata only). With ``idempotency_key`` the
    request is remembered with its record (same transaction) for ``IDEMPOTENCY_HOURS``: the same
    key and request again get the same record and file back (``replayed``); the same key with
    another request is refused.
    """
    require(ctx.actor, LabelingPermission.LABEL_CREATE)
    policy = ctx.policy(LabelingPolicy)
    check_content(data, policy.max_input_bytes)
    request_digest = None
    if idempotency_key is not None:
        check_text("Idempotency-Key", idempotency_key, 255)
        params = json.dumps([filename, user, visible, watermark, service, model]).encode()
        request_digest = hashlib.sha256(hashlib.sha256(data).digest() + params).hexdigest()
        prior = ctx.session.get(IdempotentRequest, (ctx.actor.ref, idempotency_key))
        if prior is not None and prior.created_at >= ctx.clock() - timedelta(hours=IDEMPOTENCY_HOURS):
            return _replay(ctx, prior, request_digest)
    made = _make(ctx, policy, data=data, filename=filename, user=user, visible=visible, watermark=watermark,
                 service=service, model=model)
    _keep(ctx, [made])
    if idempotency_key is not None and request_digest is not None:
        _remember(ctx, idempotency_key, request_digest, made.record.id, made.labeled.data)
    ctx.session.flush()
    return made.outcome()


@dataclass
class _Made:
    """A labeled file and its record, not yet in the transaction (``_keep`` adds them)."""

    record: GenerationRecord
    labeled: Labeled
    label: AigcLabel
    event: ContentLabeled

    def outcome(self) -> LabelOutcome:
        return LabelOutcome(self.record, self.labeled.data, self.label, self.labeled.media, self.labeled.geometry)


def _make(ctx: Ctx, policy: LabelingPolicy, *, data: bytes, filename: str | None, user: str | None, visible: bool,
          watermark: bool | None, service: str | None, model: str | None) -> _Made:
    """The labeling itself: every check that can refuse the file, the labels, the record (nothing
    written to the database yet, so a refusal leaves the transaction as it was)."""
    handler = ctx.registry.for_data(data)
    labeler = ctx.registry.capability(handler, Labeler, "cannot be labeled yet")
    check_extension(ctx, filename, handler.format_info(data[:64]))
    check_text("user reference", user, 256)
    check_text("service name", service or None, 128)  # empty: the configured name, as before
    check_text("model name", model or None, 128)

    produce_id = new_produce_id()
    label = _metadata_label(ctx, produce_id)
    order = None
    if (policy.watermark if watermark is None else watermark) and isinstance(handler, Watermarker):
        order = WatermarkOrder(secrets.randbits(64), ctx.platform.keys.watermark_key(handler.watermark_scheme))
    plan = LabelPlan(metadata=label, explicit=policy.visible if visible else None, watermark=order,
                     fingerprint=policy.fingerprint)
    labeled = labeler.label(data, plan)
    record = _record(ctx, policy, labeled, data, label, order, user=user, service=service, model=model)
    event = ContentLabeled(record.id, produce_id, handler.modality, tuple(record.labels_applied), record.output_sha256)
    return _Made(record, labeled, label, event)


def _keep(ctx: Ctx, made: list[_Made]) -> None:
    """The records, their watermark payloads and their audit entries (one run of leaves) into the
    caller's transaction."""
    for one in made:
        records.add(ctx, one.record)
    audit.record_many(ctx, [one.event for one in made], binds=[one.record for one in made])


def _remember(ctx: Ctx, key: str, digest: str, record_id: str, body: bytes) -> None:
    """Keep the request with its record; a concurrent twin fails on the primary key at commit (and
    its caller replays this one)."""
    now = ctx.clock()
    ctx.session.execute(delete(IdempotentRequest).where(  # expired ones, this key's included
        IdempotentRequest.created_at < now - timedelta(hours=IDEMPOTENCY_HOURS)))
    ctx.session.add(IdempotentRequest(actor=ctx.actor.ref, key=key, request_sha256=digest, record_id=record_id,
                                      body=body, created_at=now))


def _replay(ctx: Ctx, prior: IdempotentRequest, digest: str) -> LabelOutcome:
    if prior.request_sha256 != digest:
        raise InvalidInput("this Idempotency-Key was used for another request; use a new key for a new request")
    record = ctx.session.get(GenerationRecord, prior.record_id)
    if record is None:  # pragma: no cover - both were committed together
        raise InvalidInput("the record of this Idempotency-Key is gone; use a new key")
    handler = ctx.registry.for_data(prior.body)
    info = handler.format_info(prior.body[:64])
    media = MediaInfo(record.modality, info.format, record.media_type, info.extensions, record.width, record.height)
    label = parse_label_text(record.metadata_label).to_label()
    return LabelOutcome(record, prior.body, label, media, None, replayed=True)


def _record(ctx: Ctx, policy: LabelingPolicy, labeled: Labeled, data: bytes, label: AigcLabel,
            order: WatermarkOrder | None, *, user: str | None, service: str | None,
            model: str | None) -> GenerationRecord:
    signer = ctx.platform.keys.label_signer
    media = labeled.media
    marked = order is not None and labeled.watermark_scheme is not None
    return GenerationRecord(
        id=uuid.uuid4().hex,
        produce_id=label.ProduceID,
        producer_code=label.ContentProducer,
        label_value=label.Label,
        service=service or policy.service_name,
        model=model or policy.model_name,
        user_ref=user,
        actor=ctx.actor.ref,
        created_at=ctx.clock(),
        modality=media.modality,
        media_type=media.media_type,
        width=media.width,
        height=media.height,
        input_sha256=hashlib.sha256(data).hexdigest(),
        output_sha256=hashlib.sha256(labeled.data).hexdigest(),
        labels_applied=[a.tag for a in labeled.applied],
        metadata_label=label.to_json(),
        key_id=signer.key_id if signer else None,
        demo=policy.demo,
        watermark_payload=f"{order.payload:016x}" if marked and order else None,
        watermark_scheme=labeled.watermark_scheme if marked else None,
        watermark_strength=labeled.watermark_strength if marked else None,
        fingerprint=labeled.fingerprint.hash if labeled.fingerprint else None,
        fingerprint_quality=labeled.fingerprint.quality if labeled.fingerprint else None,
    )


def label_file(
    ctx: Ctx,
    *,
    source: Path,
    destination: Path,
    user: str | None = None,
    visible: bool = True,
    watermark: bool | None = None,
    overwrite: bool = False,
) -> LabelOutcome:
    """Label ``source`` into ``destination``: the file appears only once the record commits, and a
    committed record always gets its file (``outputs``: a temporary name, an intent file, the rename
    after the commit, recovery of whatever a crash left). Only the file at ``destination`` is ever
    replaced, and only with ``overwrite``."""
    made = _make_file(ctx, source=source, destination=destination, user=user, visible=visible, watermark=watermark,
                      overwrite=overwrite)
    return _land(ctx, [(made, destination)])[0]


def _make_file(ctx: Ctx, *, source: Path, destination: Path, user: str | None, visible: bool,
               watermark: bool | None, overwrite: bool) -> _Made:
    """Every check of a file-to-file labeling, and the labeling (nothing in the transaction yet)."""
    if destination.is_dir():
        raise InvalidInput(f"{destination} is a folder; give the output file's name")
    if destination.exists() and not overwrite:
        raise Conflict(f"{destination} exists; pass --overwrite to replace it")
    if destination.resolve() == source.resolve():
        raise InvalidInput("output must differ from input (labels are written to a new file)")
    folder_of(destination)
    require(ctx.actor, LabelingPermission.LABEL_CREATE)
    policy = ctx.policy(LabelingPolicy)
    data = read_input(source, policy.max_input_bytes)
    check_content(data, policy.max_input_bytes)
    made = _make(ctx, policy, data=data, filename=source.name, user=user, visible=visible, watermark=watermark,
                 service=None, model=None)
    check_extension(ctx, destination.name, made.labeled.media, role="output")
    return made


def _land(ctx: Ctx, files: list[tuple[_Made, Path]]) -> list[LabelOutcome]:
    """The records of ``files`` into the transaction and their outputs to temporary names under one
    intent; the outputs move into place once the transaction commits (``outputs``)."""
    policy = ctx.policy(LabelingPolicy)
    _keep(ctx, [made for made, _ in files])
    ctx.session.flush()
    pending = PendingOutput.begin(policy.pending_dir, [(made.record.id, dest) for made, dest in files])
    try:
        mode = file_mode(policy.output_mode)
        for (made, _), output in zip(files, pending.outputs, strict=True):
            pending.write(output, made.labeled.data, mode)
    except BaseException:
        pending.abandon()
        raise
    outcomes = [made.outcome() for made, _ in files]

    def publish() -> None:
        failed = pending.publish()
        for outcome, output in zip(outcomes, pending.outputs, strict=True):
            if output.record_id in failed:  # committed: recovery moves the file into place later
                LOG.error("record %s committed but its output is still at %s (%s); the next synthgov command "
                          "moves it into place", output.record_id, output.temporary, failed[output.record_id])
                outcome.pending = str(output.temporary)

    ctx.on_commit(publish)
    ctx.on_rollback(pending.abandon)
    return outcomes


def recover_outputs(platform: Platform) -> Recovered:
    """Finish the outputs that crashed processes left (see ``outputs``)."""
    from synthgov.permissions import Actor, ActorKind

    policy = platform.policy(LabelingPolicy)
    if not policy.pending_dir.is_dir():
        return Recovered([], [])
    with platform.unit_of_work(Actor(ActorKind.SYSTEM, "recovery")) as ctx:
        return recover(policy.pending_dir, lambda rid: ctx.session.get(GenerationRecord, rid) is not None)


def label_files(platform: Platform, items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A batch worker's task (``synthgov label image SOURCE... -o FOLDER``): each item is ``{"source",
    "destination", "user", "visible", "watermark", "overwrite", "actor"}``. The items are labeled one
    by one and committed together (group commit: one transaction, one run of log leaves, one intent
    and one fsync per folder for the group); a bad file is an ``error`` result and the others go on,
    an output that exists already (a run resumed) is ``skipped``, never labeled again. A group
    commits early once its outputs reach ``GROUP_BYTES`` (they are held until the commit). Results
    come once their group has committed."""
    from itertools import groupby

    from synthgov.errors import SynthgovError
    from synthgov.permissions import Actor
    from synthgov.records.schemas import RecordOut

    for actor, grouped in groupby(items, key=lambda item: item["actor"]):
        group = list(grouped)
        while group:
            results: list[dict[str, Any]] = []
            files: list[tuple[_Made, Path]] = []
            landing: list[dict[str, Any]] = []  # the results of ``files``, in their order
            held = 0  # output bytes this transaction holds in memory until it commits
            with platform.unit_of_work(Actor.operator(actor)) as ctx:
                while group and held < GROUP_BYTES:
                    item = group.pop(0)
                    source, destination = Path(item["source"]), Path(item["destination"])
                    result: dict[str, Any] = {"input": item["source"], "output": item["destination"]}
                    results.append(result)
                    if destination.exists() and not item["overwrite"]:
                        result |= {"status": "skipped", "detail": "the output exists (labeled by an earlier run)"}
                        continue
                    try:
                        made = _make_file(ctx, source=source, destination=destination, user=item["user"],
                                          visible=item["visible"], watermark=item["watermark"],
                                          overwrite=item["overwrite"])
                    except SynthgovError as exc:
                        result |= {"status": "error", "error": str(exc)}
                        continue
                    files.append((made, destination))
                    landing.append(result)
                    held += len(made.labeled.data)
                outcomes = _land(ctx, files) if files else []
            for result, outcome in zip(landing, outcomes, strict=True):
                record = RecordOut.model_validate(outcome.record).model_dump(mode="json")
                result |= {"status": "pending" if outcome.pending else "labeled", "record": record,
                           **({"pending": outcome.pending} if outcome.pending else {})}
            yield from results
