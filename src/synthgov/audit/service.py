"""Append events to the audit log, inside the caller's unit of work."""

from __future__ import annotations

from synthgov.audit.models import AuditEvent
from synthgov.context import Ctx
from synthgov.events import Event


def record(ctx: Ctx, event: Event) -> AuditEvent:
    row = AuditEvent(
        kind=event.kind, at=ctx.clock(), actor=ctx.actor.ref, subject=event.subject, payload=_jsonable(event)
    )
    ctx.session.add(row)
    return row


def _jsonable(event: Event) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in event.payload().items()}
