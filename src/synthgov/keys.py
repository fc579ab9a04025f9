"""The key ring: every key the platform uses, loaded lazily from the paths bootstrap gives it.

Services ask the key ring, never the settings: the provider's SM2 label key, the audit tree-head
signer, the watermark master key and the per-scheme keys derived from it, and the set of pinned
producer keys whose label signatures count as authentic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from synthgov.errors import ConfigurationError
from synthgov.provenance.signing import Sm2Signer, key_id


@dataclass
class KeyRing:
    signing: bool  # sign labels
    label_key_file: Path
    watermark_key_file: Path
    audit_signature: str  # "sm2" (the label key) or "ed25519"
    audit_key_file: Path
    pinned_keys: tuple[str, ...] = ()  # SPKI hex
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def label_signer(self) -> Sm2Signer | None:
        if not self.signing:
            return None
        return self._sm2()

    def _sm2(self) -> Sm2Signer:
        if "sm2" not in self._cache:
            if not self.label_key_file.is_file():
                raise ConfigurationError(f"signing key {self.label_key_file} is missing; run `synthgov init` first")
            self._cache["sm2"] = Sm2Signer.load(self.label_key_file)
        return cast(Sm2Signer, self._cache["sm2"])

    def audit_signer(self) -> tuple[Any, str]:
        """The tree-head signer and its algorithm name."""
        if self.audit_signature == "sm2":
            return self._sm2(), "sm2"
        if "ed25519" not in self._cache:
            from synthgov.audit.signing import Ed25519Signer

            if not self.audit_key_file.is_file():
                raise ConfigurationError(
                    f"Ed25519 audit key {self.audit_key_file} is missing; run `synthgov init` first")
            self._cache["ed25519"] = Ed25519Signer.load(self.audit_key_file)
        return self._cache["ed25519"], "ed25519"

    @property
    def watermark_master(self) -> bytes:
        if "watermark" not in self._cache:
            path = self.watermark_key_file
            try:
                key = path.read_bytes()
            except OSError as exc:
                raise ConfigurationError(f"watermark key {path} is missing; run `synthgov init` first") from exc
            if len(key) < 16:
                raise ConfigurationError(f"watermark key {path} is shorter than 16 bytes")
            self._cache["watermark"] = key
        return cast(bytes, self._cache["watermark"])

    def watermark_key(self, scheme: str) -> bytes:
        """The key of one watermark scheme, derived from the master key (HKDF)."""
        from synthgov.watermarking.keys import scheme_key

        cache = f"watermark:{scheme}"
        if cache not in self._cache:
            self._cache[cache] = scheme_key(self.watermark_master, scheme)
        return cast(bytes, self._cache[cache])

    @property
    def pinned_key_ids(self) -> set[str]:
        """Keys whose signatures count as authentic: our own and those configured."""
        if "pinned" not in self._cache:
            ids: set[str] = set()
            for hex_spki in self.pinned_keys:
                try:
                    ids.add(key_id(bytes.fromhex(hex_spki)))
                except ValueError as exc:
                    raise ConfigurationError(f"pinned key is not hex: {hex_spki[:16]}…") from exc
            if self.signing and self.label_key_file.is_file():
                ids.add(self._sm2().key_id)
            self._cache["pinned"] = ids
        return cast(set[str], self._cache["pinned"])
