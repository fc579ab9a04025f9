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
    witness_key_file: Path = Path("keys/witness-ed25519.pem")
    # rotated audit keys: ``<key id>.<alg>.pem`` and ``active`` (the id in use)
    audit_key_dir: Path = Path("keys/audit")
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


    def _rotated(self, kid: str) -> tuple[Any, str] | None:
        for path in self.audit_key_dir.glob(f"{kid}.*.pem"):
            alg = path.suffixes[-2].lstrip(".")
            return (_load_audit_key(path, alg), alg)
        return None

    def audit_signer(self) -> tuple[Any, str]:
        """The tree-head and checkpoint signer and its algorithm name (the rotated key in use, if any)."""
        if "audit-active" not in self._cache:
            active = self.audit_key_dir / "active"
            kid = active.read_text().strip() if active.is_file() else ""
            self._cache["audit-active"] = self._rotated(kid) if kid else None
        if self._cache["audit-active"] is not None:
            return cast(tuple[Any, str], self._cache["audit-active"])
        return self._initial_audit_signer()

    def audit_public_keys(self) -> list[tuple[bytes, str]]:
        """(SPKI, algorithm) of every audit key this provider has signed with: the initial one and
        each rotated key (checkpoints made before a rotation still verify)."""
        keys: list[tuple[bytes, str]] = []
        try:
            signer, alg = self._initial_audit_signer()
            keys.append((signer.spki, alg))
        except ConfigurationError:
            pass
        for path in sorted(self.audit_key_dir.glob("*.pem")):
            alg = path.suffixes[-2].lstrip(".") if len(path.suffixes) >= 2 else ""
            if alg in ("sm2", "ed25519"):
                keys.append((_load_audit_key(path, alg).spki, alg))
        return keys

    def new_audit_key(self) -> tuple[Any, str, Path]:
        """A new audit key of the configured algorithm, written to the key folder but not yet in use
        (:meth:`activate_audit_key` makes it so once its rotation entry is committed)."""
        from synthgov.files import atomic_write

        alg = self.audit_signature
        if alg == "sm2":
            signer: Any = Sm2Signer.generate()
        else:
            from synthgov.audit.signing import Ed25519Signer

            signer = Ed25519Signer.generate()
        self.audit_key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.audit_key_dir / f"{signer.key_id}.{alg}.pem"
        atomic_write(path, signer.to_pem(), mode=0o600)
        return signer, alg, path

    def activate_audit_key(self, kid: str) -> None:
        from synthgov.files import atomic_write

        atomic_write(self.audit_key_dir / "active", kid.encode() + b"\n", mode=0o600)
        self._cache.pop("audit-active", None)

    def _initial_audit_signer(self) -> tuple[Any, str]:
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
    def witness_signer(self) -> Any:
        """This instance's Ed25519 witness key, an ``Ed25519Signer`` (made on first use: a witness
        needs nothing else)."""
        if "witness" not in self._cache:
            from synthgov.audit.signing import Ed25519Signer
            from synthgov.files import atomic_write

            path = self.witness_key_file
            if not path.is_file():
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                atomic_write(path, Ed25519Signer.generate().to_pem(), mode=0o600)
            self._cache["witness"] = Ed25519Signer.load(path)
        return self._cache["witness"]

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


def _load_audit_key(path: Path, alg: str) -> Any:
    if alg == "sm2":
        return Sm2Signer.load(path)
    from synthgov.audit.signing import Ed25519Signer

    return Ed25519Signer.load(path)
