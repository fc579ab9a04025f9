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
