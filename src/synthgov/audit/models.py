from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from synthgov.storage.base import Base, UTCDateTime


class AuditEvent(Base):
    """One entry of the append-only log: a typed event, appended in the transaction it records.

    ``leaf`` is the canonical JSON that is hashed. Since leaf version 2 it holds what is never
    purged (index, kind, time, the digest of a bound row) and the digest of ``private``, the
    canonical JSON of the actor, subject and payload with a random nonce; retention empties
    ``private``, ``actor`` and ``subject`` and the leaf still vouches for every other column.
    Version 1 leaves held everything; retention emptied them and ``leaf_hash`` alone was left.
    """

    __tablename__ = "audit_events"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str | None] = mapped_column(String(128))
    subject: Mapped[str | None] = mapped_column(String(128), index=True)
    leaf: Mapped[str | None] = mapped_column(Text)
    private: Mapped[str | None] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def payload(self) -> dict | None:
        if self.private is not None:
            return json.loads(self.private)["payload"]
        if self.leaf is not None:
            return json.loads(self.leaf).get("payload")
        return None


class AuditNode(Base):
    """A perfect subtree hash; ``id = level << 48 | index`` (level 0 are the leaf hashes)."""

    __tablename__ = "audit_nodes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditLogState(Base):
    """The single row that serializes appends: ``UPDATE … SET size = size + n RETURNING size``."""

    __tablename__ = "audit_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    hash_alg: Mapped[str | None] = mapped_column(String(16))


class AuditTreeHead(Base):
    """A signed tree head, kept so later heads can be proven consistent with it."""

    __tablename__ = "audit_tree_heads"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash_alg: Mapped[str] = mapped_column(String(16))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    sig_alg: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)


class AuditHold(Base):
    """A legal hold: entries with this subject (or of this kind) are never purged while it is active."""

    __tablename__ = "audit_holds"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str | None] = mapped_column(String(128), index=True)
    kind: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WitnessedCheckpoint(Base):
    """As a witness: the latest checkpoint this instance cosigned for each log it witnesses."""

    __tablename__ = "witness_checkpoints"

    origin: Mapped[str] = mapped_column(String(256), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
