"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, signed-note, tlog-cosignature).

A checkpoint is the note text ``<origin>\\n<size>\\n<base64 root>\\n``, followed by a blank line and
signature lines ``— <key name> base64(key ID || signature)``. The log signs with its audit key under
the name ``origin``: Ed25519 as signature type 0x01 (the type Go's sumdb/note and every C2SP tool
verify), SM3withSM2 as type 0xff with the identifier ``synthgov-sm2`` (the spec's slot for types
without an assigned byte; its key ID hashes the SubjectPublicKeyInfo). Witnesses cosign with
timestamped Ed25519 cosignatures (type 0x04, message ``cosignature/v1\\ntime <t>\\n`` + note text).

Pure functions, no storage: the checkpoint file, the witness client and server and the
standalone verifier's docs all refer to this module's rules.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field

from synthgov.provenance.signing import verify_sm2

DASH = "\u2014"
ED25519, COSIGNATURE_V1, UNASSIGNED = 0x01, 0x04, 0xFF
SM2_IDENTIFIER = b"synthgov-sm2"
MAX_SIGNATURES = 32
MAX_NOTE_BYTES = 64 * 1024


class NoteError(ValueError):
    """A note, checkpoint or cosignature that does not parse or verify; the message says which."""


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    prefix = bytes([sig_type]) + (SM2_IDENTIFIER if sig_type == UNASSIGNED else b"")
    return hashlib.sha256(name.encode() + b"\n" + prefix + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    """A public key a note may be signed with: ``sig_type`` 0x01 (Ed25519 raw 32 bytes), 0xff
    (SM2, ``public`` is the SPKI DER) or 0x04 (an Ed25519 witness cosigner)."""

    name: str
    sig_type: int
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public)

    @property
    def vkey(self) -> str:
        """The verifier key string: ``name+hex key ID+base64(type || key)``."""
        material = bytes([self.sig_type]) + (SM2_IDENTIFIER if self.sig_type == UNASSIGNED else b"") + self.public
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(material).decode()}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        try:
            name, hex_id, material_b64 = vkey.strip().split("+", 2)
            material = base64.b64decode(material_b64, validate=True)
            found_id = bytes.fromhex(hex_id)
        except ValueError as exc:
            raise NoteError(f"not a verifier key (name+id+base64): {vkey[:60]!r}") from exc
        if not material:
            raise NoteError("verifier key holds no key material")
        sig_type, public = material[0], material[1:]
        if sig_type == UNASSIGNED:
            if not public.startswith(SM2_IDENTIFIER):
                raise NoteError("verifier key of type 0xff is not a synthgov SM2 key")
            public = public[len(SM2_IDENTIFIER):]
        if sig_type in (ED25519, COSIGNATURE_V1) and len(public) != 32:
            raise NoteError("an Ed25519 verifier key must hold 32 bytes")
        verifier = cls(_check_name(name), sig_type, public)
        if verifier.id != found_id:
            raise NoteError(f"verifier key {name}: key ID {hex_id} does not match the key")
        return verifier

    def verify(self, text: bytes, signature: bytes) -> bool:
        if self.sig_type == ED25519:
            return _ed25519_ok(self.public, signature, text)
        if self.sig_type == UNASSIGNED:
            return verify_sm2(self.public, text, signature)
        if self.sig_type == COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                return False
            (stamp,) = struct.unpack(">Q", signature[:8])
            return _ed25519_ok(self.public, signature[8:], cosigned_message(text, stamp))
        return False

    def timestamp(self, signature: bytes) -> int | None:
        """A cosignature's time (seconds since 1970), for type 0x04."""
        if self.sig_type != COSIGNATURE_V1 or len(signature) < 8:
            return None
        return int(struct.unpack(">Q", signature[:8])[0])


def _ed25519_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def raw_ed25519(spki_or_raw: bytes) -> bytes:
    """The 32-byte Ed25519 key of an SPKI DER (or the raw key itself)."""
    return spki_or_raw[-32:] if len(spki_or_raw) > 32 else spki_or_raw


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends in a newline
    signatures: tuple[Signature, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line for s in self.signatures)

    def with_signatures(self, more: list[Signature]) -> Note:
        known = {(s.name, s.key_id) for s in self.signatures}
        return Note(self.text, self.signatures + tuple(s for s in more if (s.name, s.key_id) not in known))

    def verified_by(self, verifiers: list[Verifier]) -> list[Verifier]:
        """The verifiers whose signature is on the note and verifies; a known key's bad signature
        rejects the whole note (signed-note: clients SHOULD reject it)."""
        text = self.text.encode()
        good = []
        for verifier in verifiers:
            for sig in self.signatures:
                if sig.name == verifier.name and sig.key_id == verifier.id:
                    if not verifier.verify(text, sig.signature):
                        raise NoteError(f"the signature of {verifier.name} (key {verifier.id.hex()}) does not verify "
                                        "(forged or altered note)")
                    good.append(verifier)
                    break
        return good

    def signature_of(self, verifier: Verifier) -> Signature | None:
        return next((s for s in self.signatures if s.name == verifier.name and s.key_id == verifier.id), None)


def parse_note(raw: str | bytes) -> Note:
    if isinstance(raw, bytes):
        if len(raw) > MAX_NOTE_BYTES:
            raise NoteError(f"note is larger than {MAX_NOTE_BYTES} bytes")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not UTF-8") from exc
    if len(raw) > MAX_NOTE_BYTES:
        raise NoteError(f"note is larger than {MAX_NOTE_BYTES} bytes")
    if any(ord(c) < 0x20 and c != "\n" for c in raw):
        raise NoteError("note holds control characters")
    if not raw.endswith("\n"):
        raise NoteError("note does not end in a newline")
    cut = raw.rfind("\n\n")
    if cut < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = raw[: cut + 1], raw[cut + 2 :]
    signatures = []
    for line in block.splitlines():
        if not line.startswith(DASH + " "):
            raise NoteError(f"malformed signature line {line[:60]!r}")
        try:
            _, name, sig_b64 = line.split(" ")
            blob = base64.b64decode(sig_b64, validate=True)
        except ValueError as exc:
            raise NoteError(f"malformed signature line {line[:60]!r}") from exc
        if len(blob) < 5:
            raise NoteError("signature too short")
        signatures.append(Signature(_check_name(name), blob[:4], blob[4:]))
    if not signatures:
        raise NoteError("note has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(signatures))


def parse_signature_lines(raw: str) -> list[Signature]:
    """The signature lines of a witness's answer (one or more ``— name sig`` lines)."""
    return list(parse_note("x\n\n" + raw if raw.endswith("\n") else "x\n\n" + raw + "\n").signatures)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin:
            raise NoteError("checkpoint origin is empty")
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"checkpoint size {size[:30]!r} is not a decimal number")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except ValueError as exc:
            raise NoteError("checkpoint root is not base64") from exc
        if len(root_hash) != 32:
            raise NoteError("checkpoint root is not a 32-byte hash")
        return cls(origin, int(size), root_hash)


def sign_checkpoint(checkpoint: Checkpoint, signer, sig_alg: str) -> Note:
    """The log's own signature on a checkpoint: ``signer`` is the audit key ring's signer."""
    text = checkpoint.text
    verifier = log_verifier(checkpoint.origin, signer.spki, sig_alg)
    return Note(text, (Signature(verifier.name, verifier.id, signer.sign(text.encode())),))


def log_verifier(origin: str, spki: bytes, sig_alg: str) -> Verifier:
    if sig_alg == "ed25519":
        return Verifier(_check_name(origin), ED25519, raw_ed25519(spki))
    if sig_alg == "sm2":
        return Verifier(_check_name(origin), UNASSIGNED, spki)
    raise NoteError(f"unknown log signature algorithm {sig_alg!r}")


def cosign(note: Note, name: str, signer, timestamp: int) -> Signature:
    """A witness's timestamped Ed25519 cosignature on a checkpoint note (``signer``: an
    ``Ed25519Signer``)."""
    verifier = Verifier(_check_name(name), COSIGNATURE_V1, raw_ed25519(signer.spki))
    sig = signer.sign(cosigned_message(note.text.encode(), timestamp))
    return Signature(name, verifier.id, struct.pack(">Q", timestamp) + sig)
