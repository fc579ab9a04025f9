"""Exports checked by the standalone verifier (tools/verify_audit_export.py) with only the public key."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from synthgov.audit import service
from synthgov.identity.events import ApiKeyRevoked
from synthgov.provenance.signing import Sm2Signer

VERIFIER = Path(__file__).parents[2] / "tools" / "verify_audit_export.py"


def verify(path, key):
    proc = subprocess.run([sys.executable, str(VERIFIER), "--public-key", key, str(path)], capture_output=True,
                          text=True, timeout=60)
    return proc.returncode, proc.stdout.strip() + proc.stderr.strip()


@pytest.fixture
def exported(platform, operator, tmp_path):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for day in range(6):
        platform.clock = lambda day=day: start + timedelta(days=day)
        with platform.unit_of_work(operator) as ctx:
            service.record_many(ctx, [ApiKeyRevoked(f"d{day}-{i}") for i in range(7)])
    with platform.unit_of_work(operator) as ctx:
        lines = list(service.export_lines(ctx, start=start + timedelta(days=2), end=start + timedelta(days=4)))
        key = service.tree_head(ctx).public_key
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, key, lines


def test_partial_export_verifies(exported):
    path, key, lines = exported
    code, out = verify(path, key)
    assert code == 0, out
    assert "entries 15..28 (14, 0 purged) are in the signed log of size 43" in out  # entry 0: init


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda ls: ls[:-1], "no signed tree head"),
        (lambda ls: ls[:5] + ls[6:], "truncated or edited"),
        (lambda ls: [ls[0], ls[1].replace("d2-0", "d2-X")] + ls[2:], "entry 15: content does not match"),
        (lambda ls: [ls[0], ls[1][: len(ls[1]) // 2]] + ls[2:], "line 2 is not JSON"),
    ],
)
def test_damaged_exports_say_what_failed(exported, tmp_path, damage, message):
    path, key, lines = exported
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(damage(lines)) + "\n")
    code, out = verify(bad, key)
    assert code == 1 and message in out, out


def test_edited_leaf_hash_breaks_the_root(exported, tmp_path):
    path, key, lines = exported
    entry = json.loads(lines[3])
    entry["leaf"], entry["leaf_hash"] = None, "00" * 32
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:3] + [json.dumps(entry)] + lines[4:]))
    code, out = verify(bad, key)
    assert code == 1 and "do not rebuild the signed root" in out


def test_forged_tree_head(exported, tmp_path):
    path, key, lines = exported
    head = json.loads(lines[-1])
    head["tree_head"]["size"] += 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:-1] + [json.dumps(head)]))
    code, out = verify(bad, key)
    assert code == 1 and "signature is invalid" in out
    other = Sm2Signer.generate().spki.hex()
    code, out = verify(path, other)
    assert code == 1 and "different public key" in out


def test_inclusion_proof_file_and_proof_for_another_tree(platform, operator, exported, tmp_path):
    path, key, _ = exported
    with platform.unit_of_work(operator) as ctx:
        proof = service.prove_inclusion(ctx, index=5)
        service.record(ctx, ApiKeyRevoked("later"))
    with platform.unit_of_work(operator) as ctx:
        newer = service.tree_head(ctx)
    good = tmp_path / "proof.json"
    good.write_text(json.dumps(proof))
    assert verify(good, key)[0] == 0
    moved = dict(proof, tree_head=newer.to_dict(), tree_size=newer.size)
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps(moved))
    code, out = verify(bad, key)
    assert code == 1 and "another tree" in out, out


def test_verifier_accepts_heads_signed_by_keys_whose_x_starts_with_byte_04():
    """gmssl's constructor lstrips "04" digits from such keys (1 in 256); the verifier must not depend on it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("verify_audit_export", VERIFIER)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    signer = Sm2Signer.generate()
    while signer.spki[len(tool.SM2_SPKI_PREFIX)] != 0x04:
        signer = Sm2Signer.generate()
    head = {"hash_alg": "sm3", "size": 7, "root": "ab" * 32, "timestamp_ms": 1, "sig_alg": "sm2",
            "public_key": signer.spki.hex()}
    head["signature"] = signer.sign(tool.tree_head_message(head)).hex()
    tool.verify_head(head, signer.spki)  # raises Failed on a wrong verdict
