"""Actors and the permission check. Services check permissions themselves (architecture rule 4).

Each domain declares its own permissions as a ``StrEnum`` in its manifest; this module knows none
of them. An operator (a person at the CLI on the provider's machine) holds every permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from synthgov.errors import Forbidden


class ActorKind(StrEnum):
    OPERATOR = "operator"  # a person at the CLI on the provider's machine
    API_KEY = "api_key"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        return cls(ActorKind.OPERATOR, name)

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"

    def can(self, permission: StrEnum | str) -> bool:
        return self.kind is ActorKind.OPERATOR or str(permission) in self.permissions


def require(actor: Actor, permission: StrEnum) -> None:
    if not actor.can(permission):
        raise Forbidden(f"{actor.ref} lacks permission {permission}")
