"""Settings: defaults < ``{data_dir}/synthgov.toml`` < ``SYNTHGOV_*`` environment < explicit arguments.

Nothing here runs at import time; callers build a :class:`Settings` and hand it to
:func:`synthgov.bootstrap.open_platform`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
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


class WitnessSetting(BaseModel):
    """A witness this log asks for cosignatures (c2sp.org/tlog-witness)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="Submission prefix: the witness answers POST <url>/add-checkpoint")
    key: str = Field(description="The witness's verifier key, name+id+base64 (signature type 0x04)")


class WitnessedLog(BaseModel):
    """A log this instance witnesses: it cosigns the log's checkpoints after checking consistency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: str = Field(description="The log's checkpoint origin line")
    keys: list[str] = Field(min_length=1, description="The log's verifier keys (all keys it may sign with)")
    hash: Literal["sm3", "sha256"] = Field("sm3", description="The log's Merkle hash")


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
    audit_origin: str = Field("", description="Checkpoint origin and log key name (default "
                              "synthgov.local/<provider code>/audit)")
    audit_checkpoint_file: Path | None = Field(None, description="Append-only file of signed checkpoints, outside "
                                               "the database (default {data_dir}/audit-checkpoints.jsonl)")
    audit_checkpoint_every: int = Field(1000, ge=1, description="Make a checkpoint once this many entries were added")
    audit_checkpoint_seconds: float = Field(300.0, gt=0, description="… or after this many seconds (server), and "
                                            "at every shutdown when the log grew")
    audit_witnesses: list[WitnessSetting] = Field(default_factory=list, description="Witnesses asked to cosign")
    audit_witness_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a witness")
    witness_name: str = Field("", description="This instance's witness name (default "
                              "synthgov.local/<provider code>/witness)")
    witness_key_file: Path | None = Field(None, description="Ed25519 witness key (default keys/witness-ed25519.pem)")
    witness_logs: list[WitnessedLog] = Field(default_factory=list, description="Logs this instance witnesses")

    watermark: bool = Field(True, description="Embed the keyed invisible watermark in labeled images")
    watermark_key_file: Path | None = Field(None, description="Secret watermark key (32 bytes)")
    fingerprint: bool = Field(True, description="Store a PDQ perceptual hash with every image record")
    fingerprint_max_distance: int = Field(31, ge=0, le=64, description="PDQ match threshold (Hamming distance)")

    max_input_bytes: int = Field(256 * 1024 * 1024, gt=0, description="Largest accepted input file")
    output_mode: str | None = Field(None, pattern=r"^0?[0-7]{3}$", description="Mode of labeled output files, "
                                    "octal (e.g. 640); default: 666 less the umask")
    max_image_pixels: int = Field(32_000_000, gt=0, description="Largest accepted image (decompression guard; "
                                  "labeling 40 megapixels peaks at 1.2 GB)")

    modalities: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-modality handler configs, e.g. [modalities.image] max_pixels = …")

    api_rate_limit: int = Field(600, ge=0, description="Requests a minute per API key (bursts as large); 0: no limit")
    api_workers: int = Field(1, ge=1, le=64, description="Server processes of `synthgov serve` (about one per core)")
    api_concurrent_work: int = Field(2, ge=1, le=256, description="Uploads worked on at a time per server process "
                                     "(each may take up to about 1 GiB)")
    api_queue_seconds: float = Field(120.0, gt=0, description="How long an upload waits for a work slot before a 503")

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
    def resolved_checkpoint_file(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit-checkpoints.jsonl"

    @property
    def resolved_audit_origin(self) -> str:
        """'' until a provider is configured (no checkpoints are made before ``synthgov init``)."""
        return self.audit_origin or (f"synthgov.local/{self.provider_code}/audit" if self.provider_code else "")

    @property
    def resolved_witness_name(self) -> str:
        return self.witness_name or f"synthgov.local/{self.provider_code or 'unconfigured'}/witness"

    @property
    def resolved_witness_key_file(self) -> Path:
        return self.witness_key_file or self.data_dir / "keys" / "witness-ed25519.pem"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'synthgov.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "keys" / "provider-sm2.pem"

    @property
    def config_file(self) -> Path:
        return self.data_dir / CONFIG_FILE_NAME


ENV_PREFIX = "SYNTHGOV_"
# environment variables of this prefix that are not settings: the test suite's and the benchmarks'
RESERVED_ENV_PREFIXES = ("SYNTHGOV_TEST_", "SYNTHGOV_BENCH_")


def _closest(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_settings(toml_keys: list[str], environ: dict[str, str]) -> list[str]:
    """One line per key of the config file and per ``SYNTHGOV_*`` variable that matches no setting
    (a misspelt key would otherwise be ignored silently: ``watermak = false`` still watermarks)."""
    fields = list(Settings.model_fields)
    problems = [f"unknown setting {key!r} in {CONFIG_FILE_NAME}{_closest(key, fields)}"
                for key in toml_keys if key not in Settings.model_fields]
    env_names = [ENV_PREFIX + f.upper() for f in fields]
    for var in sorted(environ):
        if var.upper().startswith(ENV_PREFIX) and not var.upper().startswith(RESERVED_ENV_PREFIXES) \
                and var.upper() not in env_names:
            problems.append(f"unknown environment variable {var}{_closest(var.upper(), env_names)}")
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors and unknown keys into one clear
    :class:`ConfigurationError`."""
    from pydantic import ValidationError

    clean = {k: v for k, v in overrides.items() if v is not None}
    unknown = [k for k in clean if k not in Settings.model_fields]
    if unknown:
        raise ConfigurationError(f"unknown setting {unknown[0]!r}{_closest(unknown[0], list(Settings.model_fields))}")
    try:
        settings = Settings(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigurationError(f"invalid setting {where}: {first.get('msg')}") from exc
    toml = _TomlSource(Settings, {"data_dir": settings.data_dir})()
    problems = unknown_settings(list(toml), dict(os.environ))
    if problems:
        raise ConfigurationError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return settings
