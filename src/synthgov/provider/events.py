"""Events of the provider domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from synthgov.events import Event


@dataclass(frozen=True)
class ProviderConfigured(Event):
    kind: ClassVar[str] = "provider.configured"
    provider_code: str
    key_id: str
    demo: bool

    @property
    def subject(self) -> str:
        return self.provider_code
