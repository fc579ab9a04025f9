"""Events of the labeling domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from synthgov.events import Event


@dataclass(frozen=True)
class ContentLabeled(Event):
    kind: ClassVar[str] = "content.labeled"
    record_id: str
    produce_id: str
    modality: str
    labels_applied: tuple[str, ...]
    output_sha256: str

    @property
    def subject(self) -> str:
        return self.produce_id
