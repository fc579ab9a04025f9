"""Events of the audit domain (the log recording its own upkeep)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from synthgov.events import Event


@dataclass(frozen=True)
class AuditPurged(Event):
    kind: ClassVar[str] = "audit.purged"
    purged: int
    by_kind: dict
    held: int


@dataclass(frozen=True)
class HoldPlaced(Event):
    kind: ClassVar[str] = "audit.hold_placed"
    hold_id: str
    held_subject: str | None
    held_kind: str | None
    reason: str

    @property
    def subject(self) -> str:
        return self.hold_id


@dataclass(frozen=True)
class HoldReleased(Event):
    kind: ClassVar[str] = "audit.hold_released"
    hold_id: str

    @property
    def subject(self) -> str:
        return self.hold_id


@dataclass(frozen=True)
class AuditKeyRotated(Event):
    """The log's signing key changed; ``endorsement`` is the old key's signature over
    ``synthgov/audit-key-rotation/v1\n<new public key hex>`` (so nobody without the old key can
    introduce a key of their own)."""

    kind: ClassVar[str] = "audit.key_rotated"
    old_key_id: str
    new_key_id: str
    sig_alg: str
    new_public_key: str  # SubjectPublicKeyInfo, hex
    endorsement: str  # hex

    @property
    def subject(self) -> str:
        return self.new_key_id
