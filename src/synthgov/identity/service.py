"""API keys: create (secret shown once), authenticate, list, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from synthgov.audit import service as audit
from synthgov.audit.checks import row_matches_entry
from synthgov.context import Ctx
from synthgov.errors import InvalidInput, NotFound, Unauthenticated
from synthgov.identity.events import ApiKeyCreated, ApiKeyRevoked
from synthgov.identity.models import ApiKey
from synthgov.identity.permissions import IdentityPermission
from synthgov.inputs import check_text, lookable
from synthgov.permissions import Actor, ActorKind, require

PREFIX = "sg"


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once, never stored


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(ctx: Ctx, *, name: str, permissions: list[str] | None = None) -> NewKey:
    require(ctx.actor, IdentityPermission.APIKEY_MANAGE)
    check_text("key name", name, 128)  # "" too: 1 to 128 characters
    domains = ctx.platform.domains
    try:
        perms = sorted(domains.permission(p) for p in permissions) if permissions else sorted(domains.default_grants)
    except KeyError as exc:
        known = ", ".join(p.value for p in domains.permissions)
        raise InvalidInput(f"unknown permission {exc.args[0]!r}; known: {known}") from exc
    key_id = secrets.token_hex(6)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=key_id,
        name=name,
        secret_sha256=_digest(token),
        permissions=[p.value for p in perms],
        created_at=ctx.clock(),
        created_by=ctx.actor.ref,
    )
    ctx.session.add(row)
    audit.record(ctx, ApiKeyCreated(key_id, name, tuple(p.value for p in perms)), binds=row)
    ctx.session.flush()
    return NewKey(row, token)


def list_api_keys(ctx: Ctx) -> list[ApiKey]:
    require(ctx.actor, IdentityPermission.APIKEY_MANAGE)
    return list(ctx.session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_api_key(ctx: Ctx, *, key_id: str) -> ApiKey:
    require(ctx.actor, IdentityPermission.APIKEY_MANAGE)
    row = ctx.session.get(ApiKey, key_id) if lookable(key_id, 16) else None
    if row is None:
        raise NotFound(f"no API key {key_id!r}")
    if row.revoked_at is None:
        row.revoked_at = ctx.clock()
        audit.record(ctx, ApiKeyRevoked(key_id), binds=row)
    return row


def authenticate(ctx: Ctx, *, token: str) -> Actor:
    """Resolve a bearer token to an actor; any failure is the same 401."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(token) > 200 or not lookable(parts[1], 16):
        raise Unauthenticated("invalid API key")
    row = ctx.session.get(ApiKey, parts[1])
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_sha256, _digest(token)):
        raise Unauthenticated("invalid or revoked API key")
    if not row_matches_entry(ctx, row):  # e.g. permissions granted by editing the database
        raise Unauthenticated("API key does not match its audit log entry; run `synthgov audit verify`")
    return Actor(ActorKind.API_KEY, row.id, frozenset(str(p) for p in row.permissions))
