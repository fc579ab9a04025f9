"""``synthgov init``: data folder, config file and SM2 key pair for one provider."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from synthgov.config import Settings
from synthgov.errors import ConfigurationError, Conflict
from synthgov.files import atomic_write
from synthgov.provenance.codes import parse_provider_code
from synthgov.provenance.signing import Sm2Signer

# A syntactically valid code whose USCC (910000000000DEM00L) has region 000000, which no real
# entity has: it cannot be mistaken for a registered provider.
DEMO_PROVIDER_CODE = "0011910000000000DEM00L10001"
DEMO_PROVIDER_NAME = "DEMO provider (not a real entity; do not publish output)"


@dataclass(frozen=True)
class InitResult:
    data_dir: Path
    config_file: Path
    key_file: Path
    key_id: str
    key_created: bool
    public_key_hex: str
    provider_code: str
    demo: bool


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def init_provider(
    settings: Settings, *, provider_code: str | None, provider_name: str | None, demo: bool, force: bool = False
) -> InitResult:
    if demo:
        provider_code = provider_code or DEMO_PROVIDER_CODE
        provider_name = provider_name or DEMO_PROVIDER_NAME
    if not provider_code:
        raise ConfigurationError("a provider code is required (--provider-code), or use --demo")
    parse_provider_code(provider_code)
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    config = settings.config_file
    keep_config = False
    if config.exists() and not force:
        existing = _configured_code(config)  # the file itself, not the environment
        if existing and existing != provider_code:
            raise Conflict(f"{config} already configures provider {existing}; pass --force to replace")
        keep_config = existing == provider_code  # re-running init keeps the operator's edits
    lines = [
        "# synthgov configuration (see docs/configuration.md). Environment SYNTHGOV_* overrides it.",
        f"provider_code = {_toml_str(provider_code)}",
        f"provider_name = {_toml_str(provider_name or '')}",
        f"demo = {'true' if demo else 'false'}",
    ]
    if not keep_config:
        atomic_write(config, ("\n".join(lines) + "\n").encode(), mode=0o644)
    key_file = settings.resolved_key_file
    created = False
    if key_file.exists():
        signer = Sm2Signer.load(key_file)
    else:
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        signer = Sm2Signer.generate()
        atomic_write(key_file, signer.to_pem(), mode=0o600)
        atomic_write(key_file.with_suffix(".pub.hex"), (signer.spki.hex().upper() + "\n").encode(), mode=0o644)
        created = True
    if not settings.resolved_watermark_key_file.exists():
        import secrets

        atomic_write(settings.resolved_watermark_key_file, secrets.token_bytes(32), mode=0o600)
    if settings.audit_signature == "ed25519" and not settings.resolved_audit_key_file.exists():
        from synthgov.audit.signing import Ed25519Signer

        atomic_write(settings.resolved_audit_key_file, Ed25519Signer.generate().to_pem(), mode=0o600)
    _migrate_and_record(settings, provider_code, signer.key_id, demo)
    return InitResult(
        data_dir, config, key_file, signer.key_id, created, signer.spki.hex().upper(), provider_code, demo
    )


def _configured_code(config: Path) -> str:
    try:
        with config.open("rb") as fh:
            value = tomllib.load(fh).get("provider_code", "")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {config}: {exc}") from exc
    return value if isinstance(value, str) else ""


def _migrate_and_record(settings: Settings, provider_code: str, key_id: str, demo: bool) -> None:
    """Bring the schema up to date and log the configuration change as an audit event."""
    from synthgov.audit import service as audit
    from synthgov.bootstrap import open_platform
    from synthgov.permissions import Actor
    from synthgov.provider.events import ProviderConfigured
    from synthgov.storage import migrate

    platform = open_platform(settings)
    try:
        migrate.upgrade(platform.engine)
        with platform.unit_of_work(Actor.operator("init")) as ctx:
            audit.record(ctx, ProviderConfigured(provider_code, key_id, demo))
    finally:
        platform.close()
