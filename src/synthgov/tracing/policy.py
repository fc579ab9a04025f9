"""What the tracing domain takes from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synthgov.config import Settings


@dataclass(frozen=True)
class TracingPolicy:
    watermark: bool  # look for this provider's watermark when metadata does not trace
    fingerprint_max_distance: int
    max_input_bytes: int


def from_settings(settings: Settings) -> TracingPolicy:
    return TracingPolicy(
        watermark=settings.watermark,
        fingerprint_max_distance=settings.fingerprint_max_distance,
        max_input_bytes=settings.max_input_bytes,
    )
