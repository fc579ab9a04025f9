"""What the audit domain takes from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

MIN_RETENTION_DAYS = 183  # six months: Labeling Measures Art. 9, Cybersecurity Law Art. 21

if TYPE_CHECKING:
    from synthgov.config import Settings


@dataclass(frozen=True)
class Witness:
    url: str
    key: str  # verifier key


@dataclass(frozen=True)
class WitnessedLog:
    origin: str
    keys: tuple[str, ...]
    hash_alg: str


@dataclass(frozen=True)
class AuditPolicy:
    hash_alg: str  # for a new log; an existing log keeps the one its first entry fixed
    retention_days: int
    retention_by_kind: dict[str, int] = field(default_factory=dict)
    origin: str = ""  # '' until a provider is configured: no checkpoints yet
    checkpoint_file: Path = Path("audit-checkpoints.jsonl")
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 300.0
    witnesses: tuple[Witness, ...] = ()
    witness_timeout: float = 10.0
    witness_name: str = "synthgov.local/unconfigured/witness"
    witness_key_file: Path = Path("keys/witness-ed25519.pem")
    witnessed: tuple[WitnessedLog, ...] = ()

    def retention(self, kind: str) -> int:
        return max(self.retention_by_kind.get(kind, self.retention_days), MIN_RETENTION_DAYS)


def from_settings(settings: Settings) -> AuditPolicy:
    return AuditPolicy(
        settings.audit_hash, settings.audit_retention_days, dict(settings.audit_retention_by_kind),
        origin=settings.resolved_audit_origin, checkpoint_file=settings.resolved_checkpoint_file,
        checkpoint_every=settings.audit_checkpoint_every, checkpoint_seconds=settings.audit_checkpoint_seconds,
        witnesses=tuple(Witness(w.url.rstrip("/"), w.key) for w in settings.audit_witnesses),
        witness_timeout=settings.audit_witness_timeout, witness_name=settings.resolved_witness_name,
        witness_key_file=settings.resolved_witness_key_file,
        witnessed=tuple(WitnessedLog(w.origin, tuple(w.keys), w.hash) for w in settings.witness_logs))
