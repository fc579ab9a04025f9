"""``Ctx``: one unit of work. The caller opens it, services use it, it commits exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from synthgov.permissions import Actor

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform
    from synthgov.modalities.registry import Registry

P = TypeVar("P")
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Ctx:
    platform: Platform
    session: Session
    actor: Actor
    clock: Callable[[], datetime] = utcnow
    # Work to run after a successful commit, or to undo a side effect if the commit fails.
    _on_rollback: list[Callable[[], None]] = field(default_factory=list)
    _on_commit: list[Callable[[], None]] = field(default_factory=list)
    appended: int = 0  # the log's size after this unit's appends (0: it appended nothing)
    _memo: dict[object, Any] = field(default_factory=dict)

    @property
    def registry(self) -> Registry:
        return self.platform.registry

    def policy(self, kind: type[P]) -> P:
        """The typed policy a domain's manifest built from the settings (services never see them)."""
        return self.platform.policy(kind)

    def memo(self, key: object, make: Callable[[], T]) -> T:
        """``make()``, once per unit of work and key: for what a batch of readings would otherwise
        recompute per file (the trusted checkpoint, a record's log check)."""
        if key not in self._memo:
            self._memo[key] = make()
        value: T = self._memo[key]
        return value

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Register an undo for a side effect outside the database (e.g. a file just moved into place)."""
        self._on_rollback.append(undo)

    def on_commit(self, action: Callable[[], None]) -> None:
        """Register clean-up that may only run once the transaction is durable."""
        self._on_commit.append(action)


@contextmanager
def unit_of_work(platform: Platform, actor: Actor) -> Iterator[Ctx]:
    session = platform.sessionmaker()
    ctx = Ctx(platform=platform, session=session, actor=actor, clock=platform.clock)
    try:
        yield ctx
        session.commit()
        for action in ctx._on_commit:
            with suppress(OSError):  # clean-up only
                action()
        if ctx.appended:
            platform.after_append(ctx.appended)
    except BaseException:
        session.rollback()
        for undo in reversed(ctx._on_rollback):
            with suppress(OSError):  # best effort; the original error matters more
                undo()
        raise
    finally:
        session.close()
