"""Permissions and actors. Services check permissions themselves (architecture rule 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from synthgov.errors import Forbidden


class Permission(StrEnum):
    LABEL_CREATE = "label:create"
    INSPECT = "inspect"
    RECORD_READ = "record:read"
    APIKEY_MANAGE = "apikey:manage"
    AUDIT_READ = "audit:read"
    AUDIT_MANAGE = "audit:manage"


class ActorKind(StrEnum):
    OPERATOR = "operator"  # a person at the CLI on the provider's machine
    API_KEY = "api_key"
    SYSTEM = "system"


DEFAULT_API_KEY_PERMISSIONS = frozenset({Permission.LABEL_CREATE, Permission.INSPECT, Permission.RECORD_READ})


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        return cls(ActorKind.OPERATOR, name, frozenset(Permission))

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


def require(actor: Actor, permission: Permission) -> None:
    if permission not in actor.permissions:
        raise Forbidden(f"{actor.ref} lacks permission {permission}")
