"""The only composition root: settings -> engine, sessions, domains, policies, handlers, key ring.

Services never see the settings: bootstrap turns them into typed per-domain policies (each
domain's manifest names its factory), per-handler configs and a key ring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from synthgov.config import Settings
from synthgov.context import unit_of_work, utcnow
from synthgov.domains import Domains, load_domains
from synthgov.errors import ConfigurationError
from synthgov.keys import KeyRing
from synthgov.modalities.registry import Registry, load_registry
from synthgov.permissions import Actor
from synthgov.provenance.codes import ProviderCode, parse_provider_code
from synthgov.storage.engine import make_engine

P = TypeVar("P")


@dataclass(frozen=True)
class ProviderProfile:
    code: str
    name: str
    demo: bool


@dataclass
class Platform:
    settings: Settings  # for the surfaces (bind address, banners); services use policies and keys
    engine: Engine
    sessionmaker: sessionmaker[Session]
    registry: Registry
    domains: Domains
    keys: KeyRing
    profile: ProviderProfile
    policies: dict[type, object] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    # what domains run around units of work (their manifests' ``lifecycle``): after a commit that
    # appended to the log (with the log's size), periodically while a server runs, and at close
    append_hooks: list[Callable[[int], None]] = field(default_factory=list)
    periodic: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    close_hooks: list[Callable[[], None]] = field(default_factory=list)
    # what a process may keep between units of work, each entry keyed by what it was derived from
    # (the trusted checkpoint: by the checkpoint file's identity, size and modification time)
    caches: dict[str, Any] = field(default_factory=dict)

    def unit_of_work(self, actor: Actor) -> Any:
        return unit_of_work(self, actor)

    def policy(self, kind: type[P]) -> P:
        try:
            found = self.policies[kind]
        except KeyError as exc:
            raise ConfigurationError(f"no domain provides the policy {kind.__name__}") from exc
        assert isinstance(found, kind)
        return found

    @cached_property
    def provider(self) -> ProviderCode:
        if not self.profile.code:
            raise ConfigurationError("no provider code configured; run `synthgov init` first")
        return parse_provider_code(self.profile.code)

    def after_append(self, size: int) -> None:
        """Run after a unit of work committed appends; a failing hook is logged, never raised (the
        action it follows is already durable)."""
        for hook in self.append_hooks:
            _quietly(hook, size)

    def run_periodic(self) -> Any:
        """A context manager running the periodic tasks in a daemon thread (the server uses it)."""
        return _Periodic(self.periodic)

    def close(self) -> None:
        try:
            for hook in self.close_hooks:
                _quietly(hook)
        finally:
            self.engine.dispose()


def _quietly(hook: Callable[..., None], *args: Any) -> None:
    import logging

    from synthgov.errors import SynthgovError

    log = logging.getLogger("synthgov")
    try:
        hook(*args)
    except SynthgovError as exc:  # said in one line; the action it follows is already durable
        log.error("%s", exc)
    except Exception:  # noqa: BLE001 - a background duty must not fail the action it follows
        log.exception("%s failed", getattr(hook, "__qualname__", hook))


class _Periodic:
    def __init__(self, tasks: list[tuple[float, Callable[[], None]]]) -> None:
        import threading

        self.tasks, self.stop = tasks, threading.Event()
        self.thread: threading.Thread | None = None
        self._threading = threading

    def __enter__(self) -> _Periodic:
        if self.tasks:
            thread = self._threading.Thread(target=self._run, name="synthgov-periodic", daemon=True)
            thread.start()
            self.thread = thread
        return self

    def _run(self) -> None:
        import time

        due = [time.monotonic() + every for every, _ in self.tasks]
        while not self.stop.is_set():
            now = time.monotonic()
            for i, (every, task) in enumerate(self.tasks):
                if now >= due[i]:
                    _quietly(task)
                    due[i] = time.monotonic() + every
            self.stop.wait(max(0.05, min(due) - time.monotonic()))

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)


def handler_configs(settings: Settings) -> dict[str, dict[str, Any]]:
    """Per-modality handler configs: the ``modalities`` table, with the documented shortcuts."""
    configs = {name: dict(values) for name, values in settings.modalities.items()}
    configs.setdefault("image", {}).setdefault("max_pixels", settings.max_image_pixels)
    return configs


def key_ring(settings: Settings) -> KeyRing:
    return KeyRing(
        signing=settings.signing,
        label_key_file=settings.resolved_key_file,
        watermark_key_file=settings.resolved_watermark_key_file,
        audit_signature=settings.audit_signature,
        audit_key_file=settings.resolved_audit_key_file,
        pinned_keys=tuple(settings.pinned_keys),
        witness_key_file=settings.resolved_witness_key_file,
        audit_key_dir=settings.data_dir / "keys" / "audit",
    )


def open_platform(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Platform:
    domains = load_domains()
    domains.import_models()
    engine = make_engine(settings.resolved_database_url)
    platform = Platform(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker(engine, expire_on_commit=False),
        registry=load_registry(handler_configs(settings)),
        domains=domains,
        keys=key_ring(settings),
        profile=ProviderProfile(settings.provider_code, settings.provider_name, settings.demo),
        policies=domains.policies(settings),
        clock=clock or utcnow,
    )
    domains.install(platform)
    return platform
