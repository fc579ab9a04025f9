"""Checkpoints cosigned by witnesses over real HTTP: other synthgov instances served by uvicorn.

The log runs on SQLite and PostgreSQL; each witness is a second instance with its own data folder
and database, speaking c2sp.org/tlog-witness.
"""

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from synthgov.api.app import create_app
from synthgov.api.background import serve_in_background
from synthgov.audit import service, verification
from synthgov.audit.checkpoints import CheckpointFile, log_verifiers, make_checkpoint
from synthgov.audit.notes import parse_note
from synthgov.audit.policy import AuditPolicy
from synthgov.audit.witness import witness_verifier
from synthgov.bootstrap import open_platform
from synthgov.config import WitnessSetting, load_settings
from synthgov.permissions import Actor
from synthgov.storage import migrate
from tests.audit.tampering import check, label, rewrite, truncate

VERIFIER = Path(__file__).parents[2] / "tools" / "verify_audit_export.py"


@contextmanager
def served(platform):
    with serve_in_background(platform) as url:
        yield f"{url}/v1/witness"


@pytest.fixture
def witnesses(platform, tmp_path_factory):
    """``witnesses(n)``: n witness instances of this test's log, served; yields their settings."""
    opened = []
    stack = []
    vkeys = [v.vkey for v in log_verifiers(platform)]
    origin = platform.policy(AuditPolicy).origin

    def make(n, keys=None):
        out = []
        for i in range(n):
            folder = tmp_path_factory.mktemp(f"witness{i}")
            plat = open_platform(load_settings(
                data_dir=folder, witness_name=f"witness{i}.example/w",
                witness_logs=[{"origin": origin, "keys": keys or vkeys, "hash": "sm3"}]))
            migrate.upgrade(plat.engine)
            opened.append(plat)
            cm = served(plat)
            url = cm.__enter__()
            stack.append(cm)
            with plat.unit_of_work(Actor.operator("w")) as ctx:
                out.append((WitnessSetting(url=url, key=witness_verifier(ctx).vkey), plat))
        return out

    yield make
    for cm in reversed(stack):
        cm.__exit__(None, None, None)
    for plat in opened:
        plat.close()


def with_witnesses(reconfigure, chosen):
    return reconfigure(audit_witnesses=[w for w, _ in chosen])


def test_witnesses_cosign_and_verify_asks_them(platform, reconfigure, operator, samples, witnesses, tmp_path):
    chosen = witnesses(2)
    log = with_witnesses(reconfigure, chosen)
    label(log, operator, samples, 2)
    outcome = make_checkpoint(log)
    assert outcome.made and outcome.size == 3 and not outcome.problems
    assert sorted(outcome.witnesses.values()) == ["cosigned", "cosigned"]
    note = parse_note(outcome.note)
    assert [s.name for s in note.signatures] == [log.policy(AuditPolicy).origin, "witness0.example/w",
                                                 "witness1.example/w"]
    label(log, operator, samples)
    result = check(log, operator)
    assert result.ok, result.problems
    assert "witnesses witness0.example/w, witness1.example/w cosigned the log at size 4" in result.notes
    # the regulator's view: the export carries the checkpoint and its cosignatures
    with log.unit_of_work(operator) as ctx:
        lines = list(service.export_lines(ctx, start=None, end=None, checkpoint=make_checkpoint(log).note))
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(lines) + "\n")
    key = log.keys.audit_signer()[0].spki.hex()
    args = [sys.executable, str(VERIFIER), "--public-key", key]
    for w, _ in chosen:
        args += ["--witness", w.key]
    done = subprocess.run(args + [str(export)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cosigned by witness0.example/w, witness1.example/w" in done.stdout
    stranger = witnesses(1)[0][0].key  # a witness that never saw this log
    done = subprocess.run(args + ["--witness", stranger, str(export)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "cosigned by 2 of the 3 witnesses required" in done.stdout
    edited = json.loads(lines[-1])
    edited["checkpoint"] = edited["checkpoint"].replace("witness0.example/w ", "witness0.example/w A")
    export.write_text("\n".join(lines[:-1] + [json.dumps(edited)]) + "\n")
    done = subprocess.run(args + [str(export)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout


def test_a_truncated_log_with_its_file_rewritten_is_caught_by_the_witness(platform, reconfigure, operator, samples,
                                                                          witnesses):
    chosen = witnesses(1)
    log = with_witnesses(reconfigure, chosen)
    label(log, operator, samples, 3)
    assert make_checkpoint(log).witnesses == {"witness0.example/w": "cosigned"}
    truncate(log, 2)
    log.policy(AuditPolicy).checkpoint_file.unlink()  # the adversary controls the disk too
    result = check(log, operator)
    assert result.problems == ["witness witness0.example/w has cosigned this log at size 4, larger than the log now "
                               "(2): the log was truncated or rolled back"]


def test_a_fork_shown_to_two_witnesses(platform, reconfigure, operator, samples, witnesses):
    (w1, _), (w2, _) = chosen = witnesses(2)
    both = with_witnesses(reconfigure, chosen)
    label(both, operator, samples)
    assert make_checkpoint(both).witnesses == {"witness0.example/w": "cosigned", "witness1.example/w": "cosigned"}
    label(both, operator, samples)  # entry 2: one view of it goes to the first witness only
    only_first = reconfigure(audit_witnesses=[w1])
    assert make_checkpoint(only_first).witnesses == {"witness0.example/w": "cosigned"}
    cp_file = CheckpointFile(both.policy(AuditPolicy).checkpoint_file)
    seen_by_first = cp_file.path.read_text().splitlines()
    cp_file.path.write_text("\n".join(seen_by_first[:-1]) + "\n")  # hide that view locally ...
    rewrite(both, 2, "operator:mallory")  # ... and show another history of entry 2 to the second
    only_second = reconfigure(audit_witnesses=[w2])
    assert make_checkpoint(only_second).witnesses == {"witness1.example/w": "cosigned"}
    assert check(only_second, operator).ok  # one witness alone cannot see the fork
    result = check(both, operator)
    assert result.problems == ["witness witness0.example/w holds another root for size 3: the log forked"]


def test_after_a_key_rotation_witnesses_need_the_new_key(platform, reconfigure, operator, samples, witnesses):
    (old_only,) = witnesses(1)
    log = with_witnesses(reconfigure, [old_only])
    label(log, operator, samples)
    make_checkpoint(log)
    with log.unit_of_work(operator) as ctx:
        verification.rotate_key(ctx)
    refused = make_checkpoint(log)
    assert refused.problems == ["witness witness0.example/w does not trust the key that signed this checkpoint "
                                "(after a key rotation, add the new key to the witness's configuration)"]
    log_keys = [v.vkey for v in log_verifiers(log)]
    assert len(log_keys) == 2
    (both_keys,) = witnesses(1, keys=log_keys)
    log = with_witnesses(reconfigure, [both_keys])
    assert make_checkpoint(log, force=True).witnesses == {"witness0.example/w": "cosigned"}
    assert check(log, operator).ok


def test_the_witness_protocol_answers(platform, witnesses, operator, samples):
    (setting, witness_platform), = witnesses(1)
    label(platform, operator, samples)
    make_checkpoint(platform)
    note = CheckpointFile(platform.policy(AuditPolicy).checkpoint_file).read().latest.note
    client = TestClient(create_app(witness_platform))

    def post(body):
        return client.post("/v1/witness/add-checkpoint", content=body)

    ok = post(f"old 0\n\n{note}".encode())
    assert ok.status_code == 200 and ok.text.startswith("\u2014 witness0.example/w ")
    again = post(f"old 0\n\n{note}".encode())
    assert again.status_code == 409 and again.headers["content-type"].startswith("text/x.tlog.size")
    assert again.text == "2\n"
    assert post(f"old 2\n\n{note}".encode()).status_code == 200  # the same checkpoint again: same root
    other = str(note).replace(str(note).split("\n")[0], "elsewhere.example/log")
    assert post(f"old 0\n\n{other}".encode()).status_code == 404
    forged = str(note).replace(str(note).split("\n")[2], "A" * 43 + "=")
    assert post(f"old 2\n\n{forged}".encode()).status_code == 403
    assert post(b"old x\n\nnonsense").status_code == 400
    assert post(b"old 0\n\n" + b"x" * 70_000).status_code in (400, 413)
    label(platform, operator, samples)
    with platform.unit_of_work(operator) as ctx:
        size, tree = service.log_state(ctx)
        root = service.root_at(ctx, size, tree)
    from synthgov.audit.notes import Checkpoint, sign_checkpoint

    signer, alg = platform.keys.audit_signer()
    newer = sign_checkpoint(Checkpoint(platform.policy(AuditPolicy).origin, size, root), signer, alg)
    import base64

    bad_proof = "old 2\n" + base64.b64encode(b"\x00" * 32).decode() + "\n\n" + str(newer)
    assert post(bad_proof.encode()).status_code == 422
    assert client.get("/v1/witness/checkpoint", params={"origin": platform.policy(AuditPolicy).origin}).text \
        .startswith(platform.policy(AuditPolicy).origin)
