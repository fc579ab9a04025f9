"""The only composition root: settings -> engine, sessions, modality registry, signer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from synthgov.config import Settings
from synthgov.context import unit_of_work, utcnow
from synthgov.errors import ConfigurationError
from synthgov.modalities.registry import Registry, load_registry
from synthgov.permissions import Actor
from synthgov.provenance.codes import ProviderCode, parse_provider_code
from synthgov.provenance.signing import Sm2Signer, key_id
from synthgov.storage.engine import make_engine


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    registry: Registry
    clock: Callable[[], datetime] = utcnow
    _signer: Sm2Signer | None = field(default=None, repr=False)

    def unit_of_work(self, actor: Actor):
        return unit_of_work(self, actor)

    @cached_property
    def provider(self) -> ProviderCode:
        if not self.settings.provider_code:
            raise ConfigurationError("no provider code configured; run `synthgov init` first")
        return parse_provider_code(self.settings.provider_code)

    @property
    def signer(self) -> Sm2Signer | None:
        if not self.settings.signing:
            return None
        if self._signer is None:
            path = self.settings.resolved_key_file
            if not path.is_file():
                raise ConfigurationError(f"signing key {path} is missing; run `synthgov init` first")
            self._signer = Sm2Signer.load(path)
        return self._signer

    @cached_property
    def watermark_key(self) -> bytes:
        path = self.settings.resolved_watermark_key_file
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"watermark key {path} is missing; run `synthgov init` first") from exc
        if len(key) < 16:
            raise ConfigurationError(f"watermark key {path} is shorter than 16 bytes")
        return key

    @cached_property
    def pinned_key_ids(self) -> set[str]:
        """Keys whose signatures count as authentic: our own and those configured."""
        ids: set[str] = set()
        for hex_spki in self.settings.pinned_keys:
            try:
                ids.add(key_id(bytes.fromhex(hex_spki)))
            except ValueError as exc:
                raise ConfigurationError(f"pinned key is not hex: {hex_spki[:16]}…") from exc
        if self.settings.signing and self.settings.resolved_key_file.is_file():
            ids.add(self.signer.key_id)  # type: ignore[union-attr]
        return ids

    def close(self) -> None:
        self.engine.dispose()


def open_platform(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Platform:
    engine = make_engine(settings.resolved_database_url)
    return Platform(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker(engine, expire_on_commit=False),
        registry=load_registry(),
        clock=clock or utcnow,
    )
