"""The payload-to-record table: which generation record registered which payload, per scheme."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from synthgov.storage.base import Base, UTCDateTime


class WatermarkPayload(Base):
    __tablename__ = "watermark_payloads"

    scheme: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[str] = mapped_column(String(32), primary_key=True)  # hex
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
