"""Domain manifests: each domain package declares what it adds, and bootstrap collects them.

A domain is a package ``synthgov.<name>`` with a ``manifest`` module exporting ``MANIFEST`` (the
built-ins), or a third-party package registered under the ``synthgov.domains`` entry-point group;
both go through the same collection and validation (the way Datasette loads its built-in plugins
with the mechanism third-party plugins use). Adding a domain edits no central file.

Manifest modules must stay light: they name their CLI commands, routers, models and policy
factories by import path (``"module:attr"``), so ``synthgov --help`` lists every command without
importing any domain's code.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from synthgov.errors import ConfigurationError
from synthgov.events import Event

ENTRY_POINT_GROUP = "synthgov.domains"
CORE_COMMANDS = frozenset({"version", "serve", "features", "db"})


@dataclass(frozen=True)
class CliMount:
    """One CLI entry a domain adds: a Typer app mounted as a group, or a function as a command."""

    name: str
    target: str  # "module:attr"
    help: str  # short help, shown by `synthgov --help` without importing the target
    group: bool = True


@dataclass(frozen=True)
class Manifest:
    name: str
    summary: str
    models: tuple[str, ...] = ()  # modules that define SQLAlchemy models on storage.base.Base
    events: tuple[type[Event], ...] = ()
    permissions: type[StrEnum] | None = None
    default_grants: tuple[StrEnum, ...] = ()  # permissions a new API key gets unless told otherwise
    cli: tuple[CliMount, ...] = ()
    router: str | None = None  # "module:attr" of a FastAPI APIRouter
    policy: str | None = None  # "module:attr" of a function Settings -> typed policy object
    requires: tuple[str, ...] = ()  # domains this one calls
    lifecycle: str | None = None  # "module:attr" of a function Platform -> None that adds its hooks


def resolve(target: str) -> Any:
    """Import ``"module:attr"``; a missing one is a configuration error naming it."""
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load {target}: {exc}") from exc


def _builtin_manifests() -> list[Manifest]:
    """``MANIFEST`` of every ``synthgov.<package>.manifest`` (found by file, so that packages
    without one, such as the surfaces, are not imported)."""
    from pathlib import Path

    import synthgov

    found = []
    for root in synthgov.__path__:
        for info in sorted(pkgutil.iter_modules([root]), key=lambda i: i.name):
            if info.ispkg and (Path(root) / info.name / "manifest.py").is_file():
                found.append(importlib.import_module(f"synthgov.{info.name}.manifest").MANIFEST)
    return found


def _plugin_manifests() -> list[Manifest]:
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        manifest = ep.load()
        if not isinstance(manifest, Manifest):
            raise ConfigurationError(f"entry point {ep.name} in {ENTRY_POINT_GROUP} is not a Manifest")
        out.append(manifest)
    return out


@dataclass(frozen=True)
class Domains:
    """The validated collection of every domain's manifest."""

    manifests: tuple[Manifest, ...]
    _by_name: dict[str, Manifest] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({m.name: m for m in self.manifests})

    def __iter__(self) -> Iterator[Manifest]:
        return iter(self.manifests)

    def get(self, name: str) -> Manifest:
        return self._by_name[name]

    @property
    def events(self) -> tuple[type[Event], ...]:
        return tuple(e for m in self.manifests for e in m.events)

    @property
    def permissions(self) -> tuple[StrEnum, ...]:
        return tuple(p for m in self.manifests if m.permissions for p in m.permissions)

    @property
    def default_grants(self) -> frozenset[StrEnum]:
        return frozenset(p for m in self.manifests for p in m.default_grants)

    def permission(self, value: str) -> StrEnum:
        for p in self.permissions:
            if p.value == value:
                return p
        raise KeyError(value)

    def cli_mounts(self) -> list[tuple[Manifest, CliMount]]:
        return [(m, mount) for m in self.manifests for mount in m.cli]

    def import_models(self) -> None:
        for m in self.manifests:
            for module in m.models:
                importlib.import_module(module)

    def install(self, platform: Any) -> None:
        """Let each domain add its hooks to a new platform (nothing runs until the platform is used)."""
        for m in self.manifests:
            if m.lifecycle:
                resolve(m.lifecycle)(platform)

    def policies(self, settings: Any) -> dict[type, object]:
        out: dict[type, object] = {}
        for m in self.manifests:
            if m.policy:
                policy = resolve(m.policy)(settings)
                out[type(policy)] = policy
        return out


def validate(manifests: Iterable[Manifest]) -> Domains:
    manifests = tuple(manifests)
    problems: list[str] = []

    def unique(what: str, values: list[tuple[str, str]]) -> None:
        seen: dict[str, str] = {}
        for value, owner in values:
            if value in seen:
                problems.append(f"{what} {value!r} is declared by both {seen[value]} and {owner}")
            seen[value] = owner

    unique("domain", [(m.name, m.name) for m in manifests])
    unique("event kind", [(e.kind, m.name) for m in manifests for e in m.events])
    unique("permission", [(p.value, m.name) for m in manifests if m.permissions for p in m.permissions])
    unique("CLI command", [(c.name, m.name) for m in manifests for c in m.cli]
           + [(name, "core") for name in CORE_COMMANDS])
    names = {m.name for m in manifests}
    for m in manifests:
        for event in m.events:
            if not (isinstance(event, type) and issubclass(event, Event) and getattr(event, "kind", None)):
                problems.append(f"domain {m.name}: {event!r} is not a typed Event with a kind")
        for grant in m.default_grants:
            if m.permissions is None or grant not in list(m.permissions):
                problems.append(f"domain {m.name}: default grant {grant} is not one of its permissions")
        problems.extend(f"domain {m.name} requires unknown domain {r!r}" for r in m.requires if r not in names)
        for target in [c.target for c in m.cli] + [t for t in (m.router, m.policy, m.lifecycle) if t]:
            if ":" not in target:
                problems.append(f"domain {m.name}: {target!r} is not a 'module:attr' path")
    if problems:
        raise ConfigurationError("; ".join(problems))
    return Domains(manifests)


@lru_cache(maxsize=1)
def load_domains(plugins: bool = True) -> Domains:
    """Every built-in domain and installed plugin domain, validated (cached: manifests are static)."""
    return validate(_builtin_manifests() + (_plugin_manifests() if plugins else []))

