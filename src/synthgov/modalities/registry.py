"""The modality registry: built-ins and ``synthgov.modalities`` entry points, validated at startup."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from synthgov.errors import ConfigurationError, UnsupportedMedia
from synthgov.modalities.base import CAPABILITIES

SNIFF_BYTES = 64
REQUIRED = ("modality", "name", "version", "accept", "examples", "probe", "Config")


def builtin_handlers() -> list[type]:
    from synthgov.modalities.image import ImageHandler

    return [ImageHandler]


@dataclass
class Registry:
    handlers: list[Any]

    def for_data(self, data: bytes) -> Any:
        prefix = data[:SNIFF_BYTES]
        for handler in self.handlers:
            if handler.accept(prefix):
                return handler
        raise UnsupportedMedia("unsupported or unrecognised file type")

    def get(self, modality: str) -> Any:
        for handler in self.handlers:
            if handler.modality == modality:
                return handler
        raise UnsupportedMedia(f"no handler for modality {modality!r}")

    def capabilities(self, handler: Any) -> list[str]:
        return [name for name, proto in CAPABILITIES.items() if isinstance(handler, proto)]


def validate_handler(cls: type) -> None:
    missing = [attr for attr in REQUIRED if not hasattr(cls, attr)]
    if missing:
        raise ConfigurationError(f"modality handler {cls!r} lacks {', '.join(missing)}")


def load_registry(configs: dict[str, dict] | None = None, *, plugins: bool = True) -> Registry:
    configs = configs or {}
    classes = builtin_handlers()
    if plugins:
        seen = {c for c in classes}
        for ep in entry_points(group="synthgov.modalities"):
            cls = ep.load()
            if cls not in seen:
                classes.append(cls)
                seen.add(cls)
    handlers = []
    for cls in classes:
        validate_handler(cls)
        config = cls.Config(**configs.get(cls.modality, {}))
        handlers.append(cls(config))
    modalities = [h.modality for h in handlers]
    if len(set(modalities)) != len(modalities):
        raise ConfigurationError(f"two handlers claim the same modality: {modalities}")
    return Registry(handlers)
