"""Typed events. Each is appended to the audit log inside the caller's transaction (rule 5).

The catalogue of events is documented in docs/events.md; a test fails when one is missing there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str]

    @property
    def subject(self) -> str | None:
        return None

    def payload(self) -> dict:
        """Field values, shallow (tuples serialize as JSON lists)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ContentLabeled(Event):
    kind: ClassVar[str] = "content.labeled"
    record_id: str
    produce_id: str
    modality: str
    labels_applied: tuple[str, ...]
    output_sha256: str

    @property
    def subject(self) -> str:
        return self.produce_id


@dataclass(frozen=True)
class ApiKeyCreated(Event):
    kind: ClassVar[str] = "apikey.created"
    key_id: str
    name: str
    permissions: tuple[str, ...]

    @property
    def subject(self) -> str:
        return self.key_id


@dataclass(frozen=True)
class ApiKeyRevoked(Event):
    kind: ClassVar[str] = "apikey.revoked"
    key_id: str

    @property
    def subject(self) -> str:
        return self.key_id


@dataclass(frozen=True)
class ProviderConfigured(Event):
    kind: ClassVar[str] = "provider.configured"
    provider_code: str
    key_id: str
    demo: bool

    @property
    def subject(self) -> str:
        return self.provider_code


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


ALL_EVENTS: tuple[type[Event], ...] = (
    ContentLabeled,
    ApiKeyCreated,
    ApiKeyRevoked,
    ProviderConfigured,
    AuditPurged,
    HoldPlaced,
    HoldReleased,
)


def event_fields(event_type: type[Event]) -> list[str]:
    return [f.name for f in fields(event_type)]
