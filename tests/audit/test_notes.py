"""Signed notes and checkpoints against the reference implementation's published vector (Go's
golang.org/x/mod/sumdb/note example, which C2SP signed-note describes), and hostile notes."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthgov.audit.notes import (
    ED25519,
    Checkpoint,
    Note,
    NoteError,
    Signature,
    Verifier,
    parse_note,
)
from synthgov.audit.signing import Ed25519Signer

# The example of Go's sumdb/note package (also quoted by the C2SP signed-note spec's implementations)
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann "
           "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def go_signer() -> Ed25519Signer:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    return Ed25519Signer(Ed25519PrivateKey.from_private_bytes(seed))


def test_our_notes_are_byte_for_byte_those_of_the_go_reference():
    signer = go_signer()
    verifier = Verifier("PeterNeumann", ED25519, signer.spki[-32:])
    assert verifier.vkey == GO_VKEY
    ours = Note(GO_TEXT, (Signature("PeterNeumann", verifier.id, signer.sign(GO_TEXT.encode())),))
    assert str(ours) == GO_NOTE  # Ed25519 is deterministic: the published signature, exactly
    parsed = parse_note(GO_NOTE)
    assert parsed.verified_by([Verifier.parse(GO_VKEY)]) == [verifier]


def test_a_known_key_with_a_bad_signature_rejects_the_note():
    forged = GO_NOTE.replace("cryptography", "cryptographY")
    with pytest.raises(NoteError, match="does not verify"):
        parse_note(forged).verified_by([Verifier.parse(GO_VKEY)])
    other = Verifier("Somebody", ED25519, bytes(32))
    assert parse_note(GO_NOTE).verified_by([other]) == []  # unknown keys are ignored


@pytest.mark.parametrize(("raw", "said"), [
    (b"no newline", "does not end in a newline"),
    (b"text\n", "no blank line"),
    (b"text\n\n", "no signatures"),
    (b"te\x01xt\n\n\xe2\x80\x94 a AAAAAAA=\n", "control characters"),
    (b"text\n\n- a AAAAAAA=\n", "malformed signature line"),
    (b"text\n\n\xe2\x80\x94 a !!!\n", "malformed signature line"),
    (b"text\n\n\xe2\x80\x94 a AAA=\n", "too short"),
    (b"\xff\xfe\n\n", "not UTF-8"),
    (b"x" * 70_000, "larger than"),
    (b"text\n\n" + b"\xe2\x80\x94 a AAAAAAA=\n" * 40, "more than 32 signatures"),
    (b"text\n\n\xe2\x80\x94 a+b AAAAAAA=\n", "without spaces or '\\+'"),
])
def test_hostile_notes_get_a_clear_error(raw, said):
    with pytest.raises(NoteError, match=said):
        parse_note(raw)


@pytest.mark.parametrize(("text", "said"), [
    ("origin\n12\n", "origin, a size and a root"),
    ("\n12\n" + base64.b64encode(bytes(32)).decode() + "\n", "origin is empty"),
    ("o\n012\n" + base64.b64encode(bytes(32)).decode() + "\n", "not a decimal number"),
    ("o\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n", "not a decimal number"),
    ("o\n1\nnot base64\n", "not base64"),
    ("o\n1\n" + base64.b64encode(bytes(20)).decode() + "\n", "not a 32-byte hash"),
])
def test_malformed_checkpoints(text, said):
    with pytest.raises(NoteError, match=said):
        Checkpoint.from_text(text)


def test_checkpoint_text_round_trips():
    cp = Checkpoint("example.com/log", 20852163, bytes(range(32)))
    assert cp.text == f"example.com/log\n20852163\n{base64.b64encode(bytes(range(32))).decode()}\n"
    assert Checkpoint.from_text(cp.text) == cp


@pytest.mark.parametrize("vkey", ["nokey", "a+zz+AAAA", "a+c74f20a3+" + base64.b64encode(b"\x01" + bytes(31)).decode(),
                                  GO_VKEY.replace("c74f20a3", "c74f20a4")])
def test_bad_verifier_keys(vkey):
    with pytest.raises(NoteError):
        Verifier.parse(vkey)
