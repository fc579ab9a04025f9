"""Wire shapes of generation records (API and CLI ``--json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class RecordRef(BaseModel):
    """What an actor without ``record:read`` learns of a record: that it exists, and which it is."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    produce_id: str
    created_at: datetime
    modality: str
    demo: bool
    restricted: bool = True  # the whole record needs the record:read permission


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    produce_id: str
    producer_code: str
    label_value: str
    service: str
    model: str
    user_ref: str | None
    actor: str
    created_at: datetime
    modality: str
    media_type: str
    width: int | None
    height: int | None
    input_sha256: str
    output_sha256: str
    labels_applied: list[str]
    metadata_label: str
    key_id: str | None
    demo: bool
    watermark_payload: str | None = None  # hex
    watermark_scheme: str | None = None
    watermark_strength: dict[str, Any] | None = None  # MarkStrength.to_dict(): margin, expected
    fingerprint: str | None = None  # PDQ, hex
    fingerprint_quality: int | None = None
    log_index: int | None = None
    # the record checked against its log entry: entry, matches, checkpoint_size, says (AuditPolicy)
    log: dict[str, Any] | None = None

    @field_validator("fingerprint", mode="before")
    @classmethod
    def _hex(cls, value: object) -> object:
        return value.hex() if isinstance(value, bytes) else value
