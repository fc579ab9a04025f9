"""The typed event base. Each domain declares its events (``<domain>/events.py``) in its manifest;
each is appended to the audit log inside the caller's transaction (rule 5).

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


def event_fields(event_type: type[Event]) -> list[str]:
    return [f.name for f in fields(event_type)]
