from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from synthgov.audit.binding import LogBound
from synthgov.storage.base import Base, UTCDateTime


class ApiKey(LogBound, Base):
    """An API key. Only a SHA-256 of the secret is stored; the secret is shown once at creation.
    Bound to the log entry of its creation or revocation (its permissions cannot be edited unseen)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
