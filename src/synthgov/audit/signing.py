"""Signed tree heads: the provider's SM2 key (SM3withSM2) or an Ed25519 key, by setting.

The signed message is documented in docs/audit.md and re-implemented by the standalone verifier
(tools/verify_audit_export.py); keep the three in step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from synthgov.errors import ConfigurationError
from synthgov.provenance.signing import PemKeyPair, verify_sm2

HEADER = "synthgov/tree-head/v1"


def tree_head_message(hash_alg: str, size: int, root: bytes, timestamp_ms: int) -> bytes:
    return f"{HEADER}\nhash={hash_alg}\nsize={size}\nroot={root.hex()}\ntimestamp={timestamp_ms}".encode()


@dataclass(frozen=True)
class SignedTreeHead:
    size: int
    root: str  # hex
    hash_alg: str
    timestamp_ms: int
    sig_alg: str
    key_id: str
    public_key: str  # SPKI DER, hex
    signature: str  # hex (SM2: DER SEQUENCE {r, s}; Ed25519: 64 bytes)

    def message(self) -> bytes:
        return tree_head_message(self.hash_alg, self.size, bytes.fromhex(self.root), self.timestamp_ms)

    def to_dict(self) -> dict:
        return asdict(self)


class Ed25519Signer(PemKeyPair):
    def __init__(self, key: Any) -> None:
        from cryptography.hazmat.primitives import serialization

        self._key = key
        self.spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def generate(cls) -> Ed25519Signer:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> Ed25519Signer:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load the Ed25519 key {path}: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"{path} is not an Ed25519 key")
        return cls(key)

    def _serialization(self):
        from cryptography.hazmat.primitives import serialization

        return serialization

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def sign_tree_head(signer, sig_alg: str, hash_alg: str, size: int, root: bytes, timestamp_ms: int) -> SignedTreeHead:
    signature = signer.sign(tree_head_message(hash_alg, size, root, timestamp_ms))
    return SignedTreeHead(size, root.hex(), hash_alg, timestamp_ms, sig_alg, signer.key_id, signer.spki.hex(),
                          signature.hex())


def verify_tree_head(sth: SignedTreeHead, public_key_hex: str | None = None) -> bool:
    """True when the signature verifies with ``public_key_hex`` (or the key the head names)."""
    try:
        spki = bytes.fromhex(public_key_hex or sth.public_key)
        signature = bytes.fromhex(sth.signature)
    except ValueError:
        return False
    if sth.sig_alg == "sm2":
        return verify_sm2(spki, sth.message(), signature)
    if sth.sig_alg == "ed25519":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization

        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            key = serialization.load_der_public_key(spki)
            if not isinstance(key, Ed25519PublicKey):
                return False
            key.verify(signature, sth.message())
        except (InvalidSignature, ValueError, TypeError, AttributeError):
            return False
        return True
    return False
