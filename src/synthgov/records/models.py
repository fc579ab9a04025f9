from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from synthgov.audit.binding import LogBound
from synthgov.storage.base import Base, UTCDateTime


class GenerationRecord(LogBound, Base):
    """How one piece of content was generated and labeled (draft Provisions Art. 13/14). Bound to
    its ``content.labeled`` log entry (``log_index``), which holds a digest of the whole row."""

    __tablename__ = "generation_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    produce_id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    producer_code: Mapped[str] = mapped_column(String(64))
    label_value: Mapped[str] = mapped_column(String(1))
    service: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(128))
    user_ref: Mapped[str | None] = mapped_column(String(256), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    modality: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    input_sha256: Mapped[str] = mapped_column(String(64), index=True)
    output_sha256: Mapped[str] = mapped_column(String(64), index=True)
    labels_applied: Mapped[list[str]] = mapped_column(JSON)
    metadata_label: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str | None] = mapped_column(String(16))
    demo: Mapped[bool] = mapped_column(default=False)
    watermark_payload: Mapped[str | None] = mapped_column(String(16), unique=True, index=True)  # hex
    watermark_scheme: Mapped[str | None] = mapped_column(String(64))  # e.g. image/keyed-ss-v2
    watermark_strength: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # MarkStrength.to_dict()
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # PDQ of the output
    fingerprint_quality: Mapped[int | None] = mapped_column(Integer)
