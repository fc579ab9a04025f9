"""The modality registry: built-ins and ``synthgov.modalities`` entry points, validated at startup."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, TypeVar

from synthgov.errors import ConfigurationError, UnsupportedMedia
from synthgov.modalities.base import CAPABILITIES, Handler

SNIFF_BYTES = 64
REQUIRED = ("modality", "name", "version", "accept", "format_info", "examples", "probe", "Config")
C = TypeVar("C")


# the built-in handlers' modules (what a batch's fork server imports ahead of its workers)
BUILTIN_MODULES = ("synthgov.modalities.image.handler",)


def builtin_handlers() -> list[Any]:
    from synthgov.modalities.image import ImageHandler

    return [ImageHandler]


@dataclass
class Registry:
    handlers: list[Handler]

    def for_data(self, data: bytes) -> Handler:
        prefix = data[:SNIFF_BYTES]
        for handler in self.handlers:
            if handler.accept(prefix):
                return handler
        raise UnsupportedMedia("unsupported or unrecognised file type")

    def get(self, modality: str) -> Handler:
        for handler in self.handlers:
            if handler.modality == modality:
                return handler
        raise UnsupportedMedia(f"no handler for modality {modality!r}")

    @staticmethod
    def capability(handler: Handler, capability: type[C], missing: str) -> C:
        """``handler`` as ``capability``, or UnsupportedMedia saying what is ``missing``."""
        if not isinstance(handler, capability):
            raise UnsupportedMedia(f"{handler.modality} content {missing}")
        return handler

    def capabilities(self, handler: Handler) -> list[str]:
        return [name for name, proto in CAPABILITIES.items() if isinstance(handler, proto)]

    def extensions(self) -> dict[str, str]:
        """Every file extension a handler claims, and its modality."""
        out: dict[str, str] = {}
        for handler in self.handlers:
            for ext in getattr(handler, "all_extensions", ()):
                out[ext] = handler.modality
        return out


def validate_handler(cls: type) -> None:
    missing = [attr for attr in REQUIRED if not hasattr(cls, attr)]
    if missing:
        raise ConfigurationError(f"modality handler {cls!r} lacks {', '.join(missing)}")


def load_registry(configs: dict[str, dict[str, Any]] | None = None, *, plugins: bool = True) -> Registry:
    from pydantic import ValidationError

    configs = configs or {}
    classes = builtin_handlers()
    if plugins:
        seen = set(classes)
        for ep in entry_points(group="synthgov.modalities"):
            cls = ep.load()
            if cls not in seen:
                classes.append(cls)
                seen.add(cls)
    handlers = []
    for cls in classes:
        validate_handler(cls)
        try:
            config = cls.Config(**configs.get(cls.modality, {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ConfigurationError(f"invalid setting modalities.{cls.modality}.{where}: {first.get('msg')}") from exc
        handlers.append(cls(config))
    modalities = [h.modality for h in handlers]
    if len(set(modalities)) != len(modalities):
        raise ConfigurationError(f"two handlers claim the same modality: {modalities}")
    unknown = set(configs) - set(modalities)
    if unknown:
        raise ConfigurationError(f"settings configure unknown modalities: {', '.join(sorted(unknown))}")
    return Registry(handlers)
