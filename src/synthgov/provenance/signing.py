"""SM3withSM2 label signatures in the TC260-PG-202511A ``SecurityData`` shape (spec §4.7).

The fast path uses tongsuopy (Tongsuo, an OpenSSL fork with SM2). gmssl, a pure-Python
implementation, is the fallback verifier and the independent reference the tests compare with.
Both use the default SM2 user ID ``1234567812345678`` (GB/T 32918).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthgov.errors import ConfigurationError

SM3_WITH_SM2 = "1.2.156.10197.1.501"
# DER prefix of an X.509 SubjectPublicKeyInfo for an uncompressed point on the SM2 curve
# (id-ecPublicKey 1.2.840.10045.2.1, curve sm2p256v1 1.2.156.10197.1.301).
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
TBS_LABEL = "Md"  # TBSData.Type for the label signature per PG-202511A (MiniMax writes "LabelMataData")
MAX_SECURITY_DATA = 16 * 1024


class SignatureVerdict(StrEnum):
    VALID = "valid"  # verifies with a pinned key: the label came from that producer
    INTEGRITY_ONLY = "integrity-only"  # verifies with the key carried in the file, which is not pinned
    TAMPERED = "tampered"  # a signature is present but does not verify
    UNSIGNED = "unsigned"  # no SecurityData in ReservedCode1
    OPAQUE = "opaque"  # ReservedCode1 holds vendor data we cannot interpret


def key_id(spki: bytes) -> str:
    """Short, stable identifier of a public key: the first 16 hex digits of SHA-256(SPKI)."""
    return hashlib.sha256(spki).hexdigest()[:16]


def _tongsuo():
    from tongsuopy.crypto import hashes, serialization
    from tongsuopy.crypto.asymciphers import ec

    return hashes, serialization, ec


class PemKeyPair:
    """What every signing key pair shares: PKCS#8 PEM export and a key id from its SPKI."""

    _key: Any
    spki: bytes

    def _serialization(self):  # the serialization module of the backend that made the key
        raise NotImplementedError

    def to_pem(self) -> bytes:
        serialization = self._serialization()
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def key_id(self) -> str:
        return key_id(self.spki)


@dataclass
class Sm2Signer(PemKeyPair):
    """An SM2 private key. Keys never leave the data folder; only the SPKI travels in labels."""

    _key: Any
    spki: bytes

    def _serialization(self):
        return _tongsuo()[1]

    @classmethod
    def generate(cls) -> Sm2Signer:
        hashes, serialization, ec = _tongsuo()
        key = ec.generate_private_key(ec.SM2())
        return cls(key, _spki(key.public_key(), serialization))

    @classmethod
    def from_pem(cls, pem: bytes) -> Sm2Signer:
        hashes, serialization, ec = _tongsuo()
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"signing key is not an unencrypted PKCS#8 PEM key: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name.lower() != "sm2":
            raise ConfigurationError("signing key is not an SM2 key")
        return cls(key, _spki(key.public_key(), serialization))

    @classmethod
    def load(cls, path: Path) -> Sm2Signer:
        try:
            return cls.from_pem(path.read_bytes())
        except OSError as exc:
            raise ConfigurationError(f"cannot read signing key {path}: {exc.strerror}") from exc

    def sign(self, message: bytes) -> bytes:
        """SM3withSM2 signature, DER-encoded ``SEQUENCE {r, s}``."""
        hashes, serialization, ec = _tongsuo()
        return self._key.sign(message, ec.ECDSA(hashes.SM3()))

    def security_data(self, message: bytes) -> str:
        """The compact ``SecurityData`` JSON string that goes into ReservedCode1."""
        obj = {
            "SecurityData": {
                "Type": "TC260PG",
                "Version": 1,
                "PubSD": [
                    {
                        "Type": "DS",
                        "AlgID": SM3_WITH_SM2,
                        "TBSData": {"Type": TBS_LABEL},
                        "Signature": self.sign(message).hex().upper(),
                    },
                    {"Type": "PubKey", "AlgID": SM3_WITH_SM2, "KeyValue": self.spki.hex().upper()},
                ],
            }
        }
        return json.dumps(obj, separators=(",", ":"))


def _spki(public_key, serialization) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_sm2(spki: bytes, message: bytes, der_signature: bytes) -> bool:
    """Verify an SM3withSM2 signature; tongsuopy when present, else the gmssl reference."""
    try:
        hashes, _, ec = _tongsuo()
    except ImportError:  # pragma: no cover - exercised where tongsuopy is absent
        return verify_sm2_reference(spki, message, der_signature)
    from tongsuopy.crypto.exceptions import InvalidSignature

    try:
        _public_key(spki).verify(der_signature, message, ec.ECDSA(hashes.SM3()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@lru_cache(maxsize=64)
def _public_key(spki: bytes) -> Any:
    """A parsed public key (a batch of labels carries a few producers' keys, each many times);
    ValueError for a malformed one (not cached: lru_cache keeps only returns)."""
    return _tongsuo()[1].load_der_public_key(spki)


def verify_sm2_reference(spki: bytes, message: bytes, der_signature: bytes) -> bool:
    """Pure-Python verification with gmssl (slow; an independent implementation)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from gmssl import sm2

    if not spki.startswith(SPKI_PREFIX) or len(spki) != len(SPKI_PREFIX) + 64:
        return False
    try:
        r, s = decode_dss_signature(der_signature)
    except ValueError:
        return False
    verifier = sm2.CryptSM2(private_key=None, public_key="")
    # gmssl 3.2.2 does ``public_key.lstrip("04")`` when the key starts with "04", which also eats the
    # first byte of X when X starts with 0x04 (1 key in 256); set the 128-digit X||Y afterwards.
    verifier.public_key = spki[len(SPKI_PREFIX):].hex()
    return bool(verifier.verify_with_sm3(f"{r:064x}{s:064x}", message))


@dataclass(frozen=True)
class SignatureCheck:
    verdict: SignatureVerdict
    key_id: str | None = None
    detail: str = ""


def check_security_data(reserved: str, message: bytes, pinned: set[str]) -> SignatureCheck:
    """Classify ReservedCode1/2 content: valid (pinned key), integrity-only, tampered, unsigned, opaque.

    ``pinned`` holds key ids (see :func:`key_id`) of keys the caller trusts.
    """
    if not reserved:
        return SignatureCheck(SignatureVerdict.UNSIGNED)
    if len(reserved) > MAX_SECURITY_DATA:
        return SignatureCheck(SignatureVerdict.OPAQUE, detail="reserved field too large to interpret")
    try:
        obj = json.loads(reserved)
    except (ValueError, RecursionError):
        return SignatureCheck(SignatureVerdict.OPAQUE, detail="reserved field is not SecurityData JSON")
    sd = obj.get("SecurityData") if isinstance(obj, dict) else None
    if not isinstance(sd, dict):
        return SignatureCheck(SignatureVerdict.OPAQUE, detail="reserved field holds no SecurityData object")
    found = sd.get("PubSD")
    entries: list[Any] = found if isinstance(found, list) else []
    sigs = [e for e in entries if isinstance(e, dict) and e.get("Type") == "DS"]
    keys = [e for e in entries if isinstance(e, dict) and e.get("Type") == "PubKey"]
    if not sigs:
        return SignatureCheck(SignatureVerdict.UNSIGNED, detail="SecurityData carries no signature")
    if not keys:
        return SignatureCheck(SignatureVerdict.TAMPERED, detail="SecurityData signature has no public key")
    sig, key = sigs[0], keys[0]
    if sig.get("AlgID") != SM3_WITH_SM2:
        return SignatureCheck(SignatureVerdict.OPAQUE, detail=f"unsupported signature algorithm {sig.get('AlgID')}")
    try:
        der = bytes.fromhex(str(sig.get("Signature", "")))
        spki = bytes.fromhex(str(key.get("KeyValue", "")))
    except ValueError:
        return SignatureCheck(SignatureVerdict.TAMPERED, detail="signature or key is not hex")
    kid = key_id(spki)
    if not verify_sm2(spki, message, der):
        return SignatureCheck(SignatureVerdict.TAMPERED, kid, "signature does not match the label")
    if kid in pinned:
        return SignatureCheck(SignatureVerdict.VALID, kid, "signed by a pinned producer key")
    return SignatureCheck(SignatureVerdict.INTEGRITY_ONLY, kid, "signature verifies, but the key is not pinned")
