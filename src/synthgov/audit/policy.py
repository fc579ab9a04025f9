"""What the audit domain takes from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

MIN_RETENTION_DAYS = 183  # six months: Labeling Measures Art. 9, Cybersecurity Law Art. 21

if TYPE_CHECKING:
    from synthgov.config import Settings


@dataclass(frozen=True)
class AuditPolicy:
    hash_alg: str  # for a new log; an existing log keeps the one its first entry fixed
    retention_days: int
    retention_by_kind: dict[str, int] = field(default_factory=dict)

    def retention(self, kind: str) -> int:
        return max(self.retention_by_kind.get(kind, self.retention_days), MIN_RETENTION_DAYS)


def from_settings(settings: Settings) -> AuditPolicy:
    return AuditPolicy(settings.audit_hash, settings.audit_retention_days, dict(settings.audit_retention_by_kind))
