"""Settings: defaults < ``{data_dir}/synthgov.toml`` < ``SYNTHGOV_*`` environment < explicit arguments.

Nothing here runs at import time; callers build a :class:`Settings` and hand it to
:func:`synthgov.bootstrap.open_platform`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from synthgov.errors import ConfigurationError

CONFIG_FILE_NAME = "synthgov.toml"
LabelPosition = Literal["bottom-right", "bottom-left", "top-right", "top-left"]


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "synthgov"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads ``synthgov.toml`` from the data folder chosen by arguments or the environment."""

    def __init__(self, settings_cls: type[BaseSettings], init_kwargs: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        data_dir = init_kwargs.get("data_dir") or os.environ.get("SYNTHGOV_DATA_DIR") or default_data_dir()
        self.path = Path(data_dir) / CONFIG_FILE_NAME

    def get_field_value(self, field, field_name):  # pragma: no cover - unused by __call__
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        try:
            with self.path.open("rb") as fh:
                return tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read {self.path}: {exc}") from exc


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SYNTHGOV_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Folder for config, keys and SQLite")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    demo: bool = Field(False, description="Demo provider profile: never use for real output")

    provider_name: str = Field("", description="Legal name of the generation service provider")
    provider_code: str = Field("", description="ContentProducer code per TC260-PG-20252A (27 characters)")
    service_name: str = Field("default", description="Service recorded in generation records")
    model_name: str = Field("default", description="Model recorded in generation records")

    signing: bool = Field(True, description="Sign labels (SM3withSM2 SecurityData in ReservedCode1)")
    signing_key_file: Path | None = Field(None, description="PKCS#8 PEM SM2 private key")
    pinned_keys: list[str] = Field(default_factory=list, description="Trusted producer keys (SPKI hex)")

    visible_label_text: str = Field("AI生成", description="Visible (explicit) label text")
    visible_label_position: LabelPosition = "bottom-right"
    visible_label_height_ratio: float = Field(0.06, ge=0.05, le=0.25, description="Glyph ink height / short side")

    audit_hash: Literal["sm3", "sha256"] = Field("sm3", description="Audit Merkle hash (fixed by the first entry)")
    audit_signature: Literal["sm2", "ed25519"] = Field("sm2", description="Tree-head signature algorithm")
    audit_key_file: Path | None = Field(None, description="Ed25519 tree-head key (PKCS#8 PEM)")
    audit_retention_days: int = Field(183, ge=183, description="Days before personal data in events is purged")
    audit_retention_by_kind: dict[str, int] = Field(default_factory=dict, description="Per-kind retention (days)")

    watermark: bool = Field(True, description="Embed the keyed invisible watermark in labeled images")
    watermark_key_file: Path | None = Field(None, description="Secret watermark key (32 bytes)")
    fingerprint: bool = Field(True, description="Store a PDQ perceptual hash with every image record")
    fingerprint_max_distance: int = Field(31, ge=0, le=64, description="PDQ match threshold (Hamming distance)")

    max_input_bytes: int = Field(256 * 1024 * 1024, gt=0, description="Largest accepted input file")
    max_image_pixels: int = Field(100_000_000, gt=0, description="Largest accepted image (decompression guard)")

    modalities: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-modality handler configs, e.g. [modalities.image] max_pixels = …")

    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        toml = _TomlSource(settings_cls, getattr(init_settings, "init_kwargs", {}))
        return (init_settings, env_settings, toml)

    @field_validator("visible_label_text")
    @classmethod
    def _check_label_text(cls, value: str) -> str:
        from synthgov.provenance.explicit import explicit_text_ok

        if not explicit_text_ok(value):
            raise ValueError(
                "visible label must contain 「AI」 or 「人工智能」 and 「生成」 or 「合成」 (GB 45438 5.x b)"
            )
        return value

    @field_validator("audit_retention_by_kind")
    @classmethod
    def _check_retention(cls, value: dict[str, int]) -> dict[str, int]:
        short = {k: v for k, v in value.items() if v < 183}
        if short:
            raise ValueError(f"retention must be at least 183 days (six months); too short: {short}")
        return value

    @property
    def resolved_watermark_key_file(self) -> Path:
        return self.watermark_key_file or self.data_dir / "keys" / "watermark.key"

    @property
    def resolved_audit_key_file(self) -> Path:
        return self.audit_key_file or self.data_dir / "keys" / "audit-ed25519.pem"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'synthgov.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "keys" / "provider-sm2.pem"

    @property
    def config_file(self) -> Path:
        return self.data_dir / CONFIG_FILE_NAME


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one clear :class:`ConfigurationError`."""
    from pydantic import ValidationError

    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigurationError(f"invalid setting {where}: {first.get('msg')}") from exc
