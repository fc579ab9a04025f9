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

    def close(self) -> None:
        self.engine.dispose()


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
    )


def open_platform(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Platform:
    domains = load_domains()
    domains.import_models()
    engine = make_engine(settings.resolved_database_url)
    return Platform(
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
