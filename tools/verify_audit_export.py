#!/usr/bin/env python3
"""Standalone verifier for synthgov audit exports and proofs. Needs only the provider's public key.

    python3 verify_audit_export.py --public-key KEY.hex export.jsonl
    python3 verify_audit_export.py --public-key KEY.hex --witness VKEY [--witness VKEY …] export.jsonl
    python3 verify_audit_export.py --public-key KEY.hex proof.json      (output of `synthgov audit prove`)

KEY is the hex X.509 SubjectPublicKeyInfo the provider publishes (SM2 or Ed25519), or a file holding it.
Dependencies: Python 3.9+, and ``gmssl`` for SM2 heads or ``cryptography`` for Ed25519 heads.
The algorithm is documented in synthgov's docs/audit.md. This file deliberately re-implements it
without importing synthgov, so that a regulator can read and run it on its own.
Exit status: 0 verified, 1 verification failed (the reason is printed), 2 unusable input.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys

SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")


class Failed(Exception):
    pass


def hash_fn(alg: str):
    if alg == "sha256":
        return lambda b: hashlib.sha256(b).digest()
    if alg == "sm3":
        try:
            hashlib.new("sm3")
            return lambda b: hashlib.new("sm3", b).digest()
        except ValueError:
            from gmssl import func, sm3

            return lambda b: bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(b)))
    raise Failed(f"unknown hash algorithm {alg!r}")


def split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def tree_head_message(head: dict) -> bytes:
    return (f"synthgov/tree-head/v1\nhash={head['hash_alg']}\nsize={head['size']}\nroot={head['root']}\n"
            f"timestamp={head['timestamp_ms']}").encode()


def der_signature(sig: bytes) -> tuple[int, int]:
    """(r, s) of a DER SEQUENCE {INTEGER r, INTEGER s}."""
    if len(sig) < 8 or sig[0] != 0x30:
        raise Failed("tree head signature is not DER")
    pos, out = 2, []
    for _ in range(2):
        if sig[pos] != 0x02:
            raise Failed("tree head signature is not DER")
        length = sig[pos + 1]
        out.append(int.from_bytes(sig[pos + 2 : pos + 2 + length], "big"))
        pos += 2 + length
    return out[0], out[1]


def verify_head(head: dict, public_key: bytes) -> None:
    try:
        signature = bytes.fromhex(head["signature"])
    except (KeyError, ValueError) as exc:
        raise Failed("tree head has no readable signature") from exc
    if head.get("public_key", "").lower() != public_key.hex():
        raise Failed("tree head names a different public key than the one given (forged or another provider's)")
    message = tree_head_message(head)
    if head.get("sig_alg") == "sm2":
        from gmssl import sm2

        if not public_key.startswith(SM2_SPKI_PREFIX):
            raise Failed("public key is not an SM2 SubjectPublicKeyInfo")
        r, s = der_signature(signature)
        verifier = sm2.CryptSM2(private_key=None, public_key="")
        # gmssl's constructor lstrips "04" from a key that starts with it, eating X's first byte when it is
        # 0x04 (1 key in 256); set the 128-digit X||Y afterwards.
        verifier.public_key = public_key[len(SM2_SPKI_PREFIX):].hex()
        ok = verifier.verify_with_sm3(f"{r:064x}{s:064x}", message)
    elif head.get("sig_alg") == "ed25519":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        try:
            load_der_public_key(public_key).verify(signature, message)
            ok = True
        except InvalidSignature:
            ok = False
    else:
        raise Failed(f"unknown signature algorithm {head.get('sig_alg')!r}")
    if not ok:
        raise Failed(f"tree head signature is invalid for size {head.get('size')} (forged or altered tree head)")


# -- C2SP checkpoints (c2sp.org/tlog-checkpoint, signed-note, tlog-cosignature) ---------------------
def note_key_id(name: str, sig_type: bytes, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + sig_type + public).digest()[:4]


def parse_signed_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise Failed("checkpoint is not a signed note")
    text, sigs = note[: cut + 1], []
    for line in note[cut + 2 :].splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            raise Failed(f"checkpoint has a malformed signature line {line[:40]!r}")
        blob = base64.b64decode(parts[2], validate=True)
        sigs.append((parts[1], blob[:4], blob[4:]))
    return text, sigs


def ed25519_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def verify_checkpoint(note: str, head: dict, public_key: bytes, witnesses: list[str], quorum: int) -> str:
    """The log's signature on the checkpoint, its size and root against the tree head, and a
    cosignature from each (or ``quorum``) of the witnesses given as verifier keys."""
    text, sigs = parse_signed_note(note)
    lines = text.split("\n")
    if len(lines) < 4:
        raise Failed("checkpoint has no origin, size and root lines")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if size != head["size"] or root.hex() != head["root"]:
        raise Failed(f"checkpoint (size {size}) does not match the tree head (size {head['size']}) (edited)")
    ed25519 = head["sig_alg"] == "ed25519"
    if ed25519:
        kid = note_key_id(origin, b"\x01", public_key[-32:])
    else:
        kid = note_key_id(origin, b"\xffsynthgov-sm2", public_key)

    def check(sig: bytes) -> bool:
        if ed25519:
            return ed25519_ok(public_key[-32:], sig, text.encode())
        return verify_sm2_note(public_key, sig, text.encode())

    own = [sig for name, k, sig in sigs if name == origin and k == kid]
    if not own or not check(own[0]):
        raise Failed("checkpoint is not signed by the given public key (forged or altered checkpoint)")
    cosigned = []
    for vkey in witnesses:
        name, hex_id, material_b64 = vkey.strip().split("+", 2)
        material = base64.b64decode(material_b64, validate=True)
        if material[:1] != b"\x04" or len(material) != 33:
            raise Failed(f"witness key {name} is not an Ed25519 cosignature key (type 0x04)")
        public = material[1:]
        if note_key_id(name, b"\x04", public).hex() != hex_id:
            raise Failed(f"witness key {name}: key ID does not match the key")
        for signer, k, sig in sigs:
            if signer == name and k.hex() == hex_id:
                stamp = int.from_bytes(sig[:8], "big")
                message = b"cosignature/v1\ntime %d\n" % stamp + text.encode()
                if not ed25519_ok(public, sig[8:], message):
                    raise Failed(f"the cosignature of witness {name} does not verify (forged or altered)")
                cosigned.append(name)
    needed = len(witnesses) if quorum < 0 else quorum
    if len(cosigned) < needed:
        missing = [v.split("+", 1)[0] for v in witnesses if v.split("+", 1)[0] not in cosigned]
        raise Failed(f"checkpoint is cosigned by {len(cosigned)} of the {needed} witnesses required "
                     f"(missing: {', '.join(missing)})")
    return ", cosigned by " + ", ".join(cosigned) if cosigned else ""


def verify_sm2_note(public_key: bytes, signature: bytes, message: bytes) -> bool:
    from gmssl import sm2

    r, s = der_signature(signature)
    verifier = sm2.CryptSM2(private_key=None, public_key="")
    verifier.public_key = public_key[len(SM2_SPKI_PREFIX):].hex()
    return bool(verifier.verify_with_sm3(f"{r:064x}{s:064x}", message))


def verify_export(lines: list[str], public_key: bytes, witnesses: list[str] | None = None, quorum: int = -1) -> str:
    if not lines:
        raise Failed("export is empty")
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise Failed(f"export line {number} is not JSON (truncated or edited)") from exc
    header = records[0]
    if header.get("format") != "synthgov-audit-export":
        raise Failed("not a synthgov audit export (no header line)")
    checkpoint = None
    if records and "checkpoint" in records[-1]:
        checkpoint = records.pop()["checkpoint"]
    elif header.get("version", 1) >= 2 and witnesses:
        raise Failed("export is truncated: no checkpoint at the end")
    if len(records) < 3 or "tree_head" not in records[-1]:
        raise Failed("export is truncated: no signed tree head at the end")
    if "subtrees" not in records[-2]:
        raise Failed("export is truncated: no subtree hashes before the tree head")
    head = records[-1]["tree_head"]
    verify_head(head, public_key)
    cosigned = ""
    if checkpoint is not None:
        cosigned = verify_checkpoint(checkpoint, head, public_key, witnesses or [], quorum)
    elif witnesses:
        raise Failed("export carries no checkpoint, so no witness cosigned it")
    h = hash_fn(head["hash_alg"])
    size, first, last = head["size"], header["first"], header["last"]
    if header["tree_size"] != size or header["hash_alg"] != head["hash_alg"]:
        raise Failed("header does not match the tree head (edited)")
    entries = records[1:-2]
    if len(entries) != last - first:
        raise Failed(f"export should hold entries {first}..{last - 1} ({last - first}) but holds {len(entries)}"
                     " (truncated or edited)")
    leaves = {}
    for offset, entry in enumerate(entries):
        index = first + offset
        if entry.get("index") != index:
            raise Failed(f"entry {index} is missing or out of order (found index {entry.get('index')})")
        leaf_hash = bytes.fromhex(entry["leaf_hash"])
        if entry.get("leaf") is not None and h(b"\x00" + entry["leaf"].encode()) != leaf_hash:
            raise Failed(f"entry {index}: content does not match its leaf hash (edited)")
        # leaf version 2: actor, subject and payload are the private part, whose hash the leaf holds
        private = entry.get("private")
        if private is not None and entry.get("leaf") is not None \
                and json.loads(entry["leaf"]).get("private") != h(private.encode()).hex():
            raise Failed(f"entry {index}: content does not match its leaf (edited)")
        leaves[index] = leaf_hash
    given = {(s["lo"], s["hi"]): bytes.fromhex(s["hash"]) for s in records[-2]["subtrees"]}

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 0:
            return h(b"")
        if hi <= first or lo >= last:
            if (lo, hi) not in given:
                raise Failed(f"export lacks the subtree hash for entries {lo}..{hi - 1}")
            return given[(lo, hi)]
        if hi - lo == 1:
            return leaves[lo]
        k = split(hi - lo)
        return h(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))

    if mth(0, size).hex() != head["root"]:
        raise Failed(f"entries and subtree hashes do not rebuild the signed root of size {size} (edited)")
    purged = sum(1 for e in entries if e.get("leaf") is None or e.get("private") is None and '"v":2' in e["leaf"])
    return (f"verified: entries {first}..{last - 1} ({len(entries)}, {purged} purged) are in the "
            f"signed log of size {size}, root {head['root']}{cosigned}")


def verify_inclusion(proof: dict, public_key: bytes) -> str:
    head = proof["tree_head"]
    verify_head(head, public_key)
    h = hash_fn(head["hash_alg"])
    index, size = proof["index"], proof["tree_size"]
    if size != head["size"]:
        raise Failed(f"proof is for a tree of size {size} but the head is for size {head['size']}")
    if index >= size:
        raise Failed(f"entry {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, bytes.fromhex(proof["leaf_hash"])
    for p in (bytes.fromhex(x) for x in proof["path"]):
        if sn == 0:
            raise Failed("inclusion proof is longer than the tree is deep (proof for another tree?)")
        if fn & 1 or fn == sn:
            r = h(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Failed("inclusion proof is too short for the tree size (proof for another tree?)")
    if r.hex() != head["root"]:
        raise Failed(f"inclusion proof does not lead to the signed root of size {size} (proof for another tree?)")
    return f"verified: entry {index} is in the signed log of size {size}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--public-key", required=True, help="hex SubjectPublicKeyInfo, or a file holding it")
    parser.add_argument("--witness", action="append", default=[],
                        help="a witness's verifier key (name+id+base64); its cosignature must be on the checkpoint")
    parser.add_argument("--quorum", type=int, default=-1, help="how many of the witnesses must cosign (default all)")
    parser.add_argument("file", help="export (.jsonl) or inclusion proof (.json)")
    args = parser.parse_args(argv)
    try:
        key_text = args.public_key
        try:
            with open(key_text, encoding="ascii") as fh:
                key_text = fh.read()
        except OSError:
            pass
        public_key = bytes.fromhex(key_text.strip())
        with open(args.file, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        stripped = text.lstrip()
        if stripped.startswith("{") and '"path"' in text and '"format"' not in text.split("\n", 1)[0]:
            message = verify_inclusion(json.loads(text), public_key)
        else:
            message = verify_export(text.splitlines(), public_key, args.witness, args.quorum)
    except Failed as exc:
        print(f"FAILED: {exc}")
        return 1
    except (KeyError, TypeError, ValueError) as exc:
        print(f"FAILED: malformed input ({type(exc).__name__}: {exc})")
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
