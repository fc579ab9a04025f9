"""Label generated content and record how it was made, in one transaction (architecture rule 5)."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from synthgov.audit import service as audit
from synthgov.context import Ctx
from synthgov.errors import Conflict, CorruptMedia, InvalidInput, TooLarge, UnsupportedMedia, WatermarkUnsupported
from synthgov.events import ContentLabeled
from synthgov.labeling.models import GenerationRecord
from synthgov.modalities.base import (
    ExplicitLabeler,
    ExplicitLabelSpec,
    Fingerprinter,
    MediaInfo,
    MetadataLabeler,
    Watermarker,
)
from synthgov.permissions import Permission, require
from synthgov.provenance.label import AigcLabel, LabelValue, signed_message


@dataclass
class LabelOutcome:
    record: GenerationRecord
    data: bytes
    label: AigcLabel
    media: MediaInfo
    geometry: dict | None


def new_produce_id() -> str:
    return uuid.uuid4().hex


def check_size(ctx: Ctx, size: int) -> None:
    limit = ctx.settings.max_input_bytes
    if size > limit:
        raise TooLarge(f"input is {size} bytes, over the {limit}-byte limit")


def check_extension(name: str | None, media: MediaInfo, role: str = "input") -> None:
    """A known media extension that disagrees with the content is an error, not a guess."""
    if not name:
        return
    suffix = Path(name).suffix.lower()
    from synthgov.modalities.image.formats import ALL_IMAGE_EXTENSIONS

    if suffix in ALL_IMAGE_EXTENSIONS and suffix not in media.extensions:
        raise InvalidInput(
            f"{role} name {Path(name).name!r} says {suffix} but the content is {media.format}; "
            f"use one of {', '.join(media.extensions)}"
        )


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
) -> LabelOutcome:
    """Embed the watermark, draw the visible label, write the metadata label; add the record.

    ``watermark=None`` follows the ``watermark`` setting. With ``visible=False`` and
    ``watermark=False`` the pixels are untouched (metadata only).
    """
    require(ctx.actor, Permission.LABEL_CREATE)
    check_size(ctx, len(data))
    if not data:
        raise CorruptMedia("file is empty (0 bytes)")
    handler = ctx.registry.for_data(data)
    if not isinstance(handler, MetadataLabeler):
        raise UnsupportedMedia(f"{handler.modality} content cannot carry a metadata label yet")
    media = handler.probe(data)
    check_extension(filename, media)
    if user is not None and not (0 < len(user) <= 256):
        raise InvalidInput("user reference must be 1 to 256 characters")

    settings = ctx.settings
    producer = ctx.platform.provider.code
    produce_id = new_produce_id()
    signer = ctx.platform.signer
    reserved = signer.security_data(signed_message(LabelValue.IS_AI, producer, produce_id)) if signer else ""
    label = AigcLabel.first_write(
        label=LabelValue.IS_AI.value, producer=producer, produce_id=produce_id, reserved1=reserved
    ).validate()

    out, applied, geometry, payload_hex = data, [], None, None
    if (settings.watermark if watermark is None else watermark) and isinstance(handler, Watermarker):
        payload = secrets.randbits(64)
        try:
            out = handler.embed_watermark(data, payload, ctx.platform.watermark_key)
        except WatermarkUnsupported as exc:
            applied.append(f"watermark:skipped ({exc})")
        else:
            payload_hex = f"{payload:016x}"
            applied.append("watermark:keyed-ss-v2")
    if visible:
        if not isinstance(handler, ExplicitLabeler):
            raise UnsupportedMedia(f"{handler.modality} content has no visible-label renderer yet")
        spec = ExplicitLabelSpec(
            settings.visible_label_text, settings.visible_label_position, settings.visible_label_height_ratio
        )
        result = handler.apply_explicit(out, spec)
        out, geometry = result.data, result.geometry
        applied.append("explicit:visible-text")
    out = handler.write_label(out, label, template=data)
    applied.append("metadata:xmp-tc260")
    fingerprint = quality = None
    if settings.fingerprint and isinstance(handler, Fingerprinter):
        fingerprint, quality = handler.fingerprint(out)

    record = GenerationRecord(
        id=uuid.uuid4().hex,
        produce_id=produce_id,
        producer_code=producer,
        label_value=label.Label,
        service=service or settings.service_name,
        model=model or settings.model_name,
        user_ref=user,
        actor=ctx.actor.ref,
        created_at=ctx.clock(),
        modality=handler.modality,
        media_type=media.media_type,
        width=media.width,
        height=media.height,
        input_sha256=hashlib.sha256(data).hexdigest(),
        output_sha256=hashlib.sha256(out).hexdigest(),
        labels_applied=applied,
        metadata_label=label.to_json(),
        key_id=signer.key_id if signer else None,
        demo=settings.demo,
        watermark_payload=payload_hex,
        fingerprint=fingerprint,
        fingerprint_quality=quality,
    )
    ctx.session.add(record)
    audit.record(
        ctx,
        ContentLabeled(record.id, produce_id, handler.modality, tuple(applied), record.output_sha256),
    )
    ctx.session.flush()
    return LabelOutcome(record, out, label, media, geometry)


def read_input(ctx: Ctx, path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    check_size(ctx, size)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc


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
    """Label ``source`` into ``destination``: the file appears only if the record commits.

    The output is written to a temporary file beside the destination, fsynced, and moved into
    place; if the transaction then fails, the unit of work removes it again.
    """
    if destination.exists() and not overwrite:
        raise Conflict(f"{destination} exists; pass --overwrite to replace it")
    if destination.resolve() == source.resolve():
        raise InvalidInput("output must differ from input (labels are written to a new file)")
    data = read_input(ctx, source)
    outcome = label_content(ctx, data=data, filename=source.name, user=user, visible=visible, watermark=watermark)
    check_extension(destination.name, outcome.media, role="output")
    directory = destination.parent if str(destination.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidInput(f"output folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=directory)
    backup: Path | None = None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(outcome.data)
            fh.flush()
            os.fsync(fh.fileno())
        if destination.exists():  # keep the old file until the record is durable
            backup = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}.bak")
            os.replace(destination, backup)
        os.replace(tmp, destination)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        if backup is not None and backup.exists():
            os.replace(backup, destination)
        raise

    def undo() -> None:
        destination.unlink(missing_ok=True)
        if backup is not None:
            os.replace(backup, destination)

    ctx.on_rollback(undo)
    if backup is not None:
        ctx.on_commit(backup.unlink)
    return outcome
