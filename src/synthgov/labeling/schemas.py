"""Wire shapes of generation records (API and CLI ``--json``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
