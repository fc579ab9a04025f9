"""Events of the identity domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from synthgov.events import Event


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
