from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from synthgov.storage.base import Base, UTCDateTime


class IdempotentRequest(Base):
    """A labeling request made with an ``Idempotency-Key``: committed with its record, so a retry
    after a lost response (or a crash) gets the same record and file instead of a duplicate."""

    __tablename__ = "idempotent_requests"

    actor: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
