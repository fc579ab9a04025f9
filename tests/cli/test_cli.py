"""The real ``synthgov`` command in a subprocess: outputs, JSON, and one-line errors."""

import json
import os
import subprocess
import sys

import pytest

from tests.modalities.image.test_bad_input import bomb_png


@pytest.fixture
def run(tmp_path, database_url):
    env = dict(os.environ, SYNTHGOV_DATA_DIR=str(tmp_path / "data"), SYNTHGOV_DATABASE_URL=database_url,
               COLUMNS="200")

    def _run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "synthgov", *args], capture_output=True, text=True, env=env,
                              errors="surrogateescape",  # a file name in a message is its bytes
                              cwd=tmp_path, timeout=120)
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    _run("init", "--demo")
    _run("db", "upgrade")
    return _run


def test_label_inspect_records(run, sample_files, tmp_path):
    out = tmp_path / "labeled.webp"
    labeled = json.loads(run("label", "image", str(sample_files["lossy.webp"]), "-o", str(out), "--user", "u1",
                             "--json").stdout)
    assert out.exists() and labeled["geometry"]["ink_ratio"] >= 0.05
    report = json.loads(run("inspect", str(out), str(sample_files["photo.png"]), "--json").stdout)["files"]
    assert [f["status"] for f in report] == ["labeled", "unlabeled"]
    assert report[0]["labels"][0]["record"]["produce_id"] == labeled["record"]["produce_id"]
    shown = json.loads(run("records", "show", labeled["record"]["produce_id"], "--json").stdout)
    assert shown["user_ref"] == "u1"
    human = run("inspect", str(out)).stdout
    assert "labeled" in human and "signature: valid" in human and "content unchanged" in human


def test_errors_are_one_line_without_traceback(run, sample_files, tmp_path):
    (tmp_path / "bomb.png").write_bytes(bomb_png())
    (tmp_path / "empty.jpg").write_bytes(b"")
    cases = [
        ("label", "image", str(tmp_path / "bomb.png"), "-o", str(tmp_path / "o.png")),
        ("label", "image", str(tmp_path / "empty.jpg"), "-o", str(tmp_path / "o.jpg")),
        ("label", "image", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "o.jpg")),
        ("label", "image", str(sample_files["photo.png"]), "-o", str(tmp_path / "o.jpg")),
        ("records", "show", "nope"),
        ("apikey", "revoke", "nope"),
    ]
    for args in cases:
        proc = run(*args, ok=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith("error:")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("o")) == []


def test_inspect_reports_bad_files_and_exits_1(run, sample_files, tmp_path):
    (tmp_path / "cut.jpg").write_bytes(sample_files["photo.jpg"].read_bytes()[:300])
    (tmp_path / "noise.jpg").write_bytes(bytes(range(256)) * 4)
    proc = run("inspect", str(tmp_path / "noise.jpg"), str(tmp_path / "cut.jpg"), str(sample_files["photo.gif"]),
               "--json", ok=False)
    assert proc.returncode == 1
    files = json.loads(proc.stdout)["files"]
    assert [f["status"] for f in files] == ["error", "unlabeled", "unlabeled"]
    assert files[1]["problems"][0].startswith("container damaged: JPEG is truncated")  # read leniently


def test_apikey_and_features(run):
    key = json.loads(run("apikey", "create", "--name", "ci", "--json").stdout)
    assert key["token"].startswith("sg_")
    listed = json.loads(run("apikey", "list", "--json").stdout)
    assert [k["id"] for k in listed] == [key["id"]] and "token" not in listed[0]
    feats = {f["name"]: f for f in json.loads(run("features", "--json").stdout)}
    assert feats["tongsuopy"]["available"]


def test_help_is_useful(run):
    out = run("label", "image", "--help").stdout
    assert "--no-visible" in out and "--user" in out
    assert "inspect" in run("--help").stdout


def test_audit_commands(run, sample_files, tmp_path):
    run("label", "image", str(sample_files["photo.gif"]), "-o", str(tmp_path / "a.gif"))
    verified = json.loads(run("audit", "verify", "--json").stdout)
    assert verified["ok"] and verified["entries"] == 2
    proof = json.loads(run("audit", "prove", "--entry", "1").stdout)
    assert proof["tree_size"] == 2
    export = tmp_path / "audit.jsonl"
    run("audit", "export", "-o", str(export), "--from", "2000-01-01")
    assert export.read_text().count("\n") == 6  # header, 2 entries, subtrees, tree head, checkpoint
    run("audit", "hold", "add", "--subject", "x", "--reason", "case 1")
    assert "would purge 0" in run("audit", "purge", "--dry-run").stdout
    bad = run("audit", "export", "-o", str(tmp_path / "x.jsonl"), "--from", "yesterday", ok=False)
    assert bad.returncode == 2 and "not an ISO date" in bad.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_checkpoint_commands(run, sample_files, tmp_path):
    run("label", "image", str(sample_files["photo.gif"]), "-o", str(tmp_path / "a.gif"))
    # the label command made a checkpoint when it closed: nothing new to sign
    assert "checkpoint of size 2 unchanged" in run("audit", "checkpoint").stdout
    made = json.loads(run("audit", "checkpoint", "--force", "--json").stdout)
    assert made["made"] and made["size"] == 2 and made["note"].split("\n")[1] == "2"
    keys = json.loads(run("audit", "keys").stdout)
    assert keys["log_keys"][0].startswith(keys["origin"] + "+") and "+" in keys["witness_key"]
    assert "audit key rotated" in run("audit", "rotate-key").stdout
    assert len(json.loads(run("audit", "keys").stdout)["log_keys"]) == 2
    ok = run("audit", "verify")
    assert ok.stdout.startswith("ok: 3 entries") and "3 checkpoints from outside the database" in ok.stdout
    note = tmp_path / "note.txt"
    note.write_text(made["note"])
    assert run("audit", "verify", "--checkpoint", str(note)).returncode == 0
    for bad, said in [("garbage", "neither a checkpoint file nor a signed checkpoint"),
                      ("missing", "cannot read checkpoints"), ("http://127.0.0.1:9/cp", "cannot fetch checkpoints")]:
        path = tmp_path / bad
        if bad == "garbage":
            path.write_bytes(b"\x00\xff" * 5000)
        proc = run("audit", "verify", "--checkpoint", str(path) if "http" not in bad else bad, ok=False)
        assert proc.returncode == 1 and said in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("args", [["--help"], ["inspect", "--help"], ["label", "image", "--help"],
                                  ["audit", "verify", "--help"], ["records", "show", "--help"]])
def test_help_imports_no_platform(args):
    """`synthgov --help` stays quick: commands import what they need only when they run (the
    timing itself is in the benchmark; this checks the cause)."""
    probe = ("import sys; from synthgov.cli.main import main\n"
             f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
             "heavy = [m for m in ('pydantic', 'sqlalchemy', 'PIL', 'numpy', 'fastapi', 'rich.console') "
             "if m in sys.modules]\nprint('HEAVY', heavy)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "Usage: synthgov" in proc.stdout, proc.stderr
    assert proc.stdout.strip().endswith("HEAVY []"), proc.stdout[-300:]


def _cli(tmp_path, *args, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHGOV_")} | env
    return subprocess.run([sys.executable, "-m", "synthgov", *args], capture_output=True, text=True,
                          env=full | {"COLUMNS": "200"}, cwd=tmp_path, timeout=120)


def test_an_uninitialised_data_folder_gets_one_line_and_nothing_is_created(tmp_path):
    folder = tmp_path / "never-initialised"
    for args in (["audit", "verify"], ["records", "show", "x"], ["label", "image", "a.png", "-o", "b.png"]):
        proc = _cli(tmp_path, *args, SYNTHGOV_DATA_DIR=str(folder))
        assert proc.returncode == 2 and "run `synthgov init`" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not folder.exists()


def test_misspelt_settings_are_refused_with_the_closest_name(tmp_path):
    folder = tmp_path / "data"
    assert _cli(tmp_path, "init", "--demo", SYNTHGOV_DATA_DIR=str(folder)).returncode == 0
    proc = _cli(tmp_path, "audit", "verify", SYNTHGOV_DATA_DIR=str(folder), SYNTHGOV_WATERMAK="false")
    assert proc.returncode == 2
    assert "unknown environment variable SYNTHGOV_WATERMAK; did you mean 'SYNTHGOV_WATERMARK'?" in proc.stderr
    assert _cli(tmp_path, "audit", "verify", SYNTHGOV_DATA_DIR=str(folder), SYNTHGOV_TEST_ANYTHING="1").returncode == 0
    with (folder / "synthgov.toml").open("a") as fh:
        fh.write("\nwatermak = false\n")
    proc = _cli(tmp_path, "audit", "verify", SYNTHGOV_DATA_DIR=str(folder))
    assert proc.returncode == 2 and "unknown setting 'watermak' in synthgov.toml; did you mean 'watermark'?" in \
        proc.stderr


def test_storage_failures_say_what_to_do(tmp_path):
    import sqlite3

    from synthgov.storage.engine import describe_database_error

    where = tmp_path
    assert "is full: free some space" in describe_database_error(sqlite3.OperationalError(
        "database or disk is full"), where)
    assert "is full" in describe_database_error(OSError(28, "No space left on device"), where)
    assert "failed a read or write" in describe_database_error(sqlite3.OperationalError("disk I/O error"), where)
    assert "read-only" in describe_database_error(sqlite3.OperationalError(
        "attempt to write a readonly database"), where)
    assert describe_database_error(ValueError("something else"), where) is None


def test_an_older_schema_asks_for_db_upgrade_which_works(tmp_path):
    from alembic import command

    from synthgov.storage import migrate
    from synthgov.storage.engine import make_engine

    folder = tmp_path / "data"
    assert _cli(tmp_path, "init", "--demo", SYNTHGOV_DATA_DIR=str(folder)).returncode == 0
    engine = make_engine(f"sqlite:///{folder / 'synthgov.db'}")
    command.downgrade(migrate.alembic_config(engine), "0005")
    engine.dispose()
    refused = _cli(tmp_path, "audit", "verify", SYNTHGOV_DATA_DIR=str(folder))
    assert refused.returncode == 2 and "run `synthgov db upgrade`" in refused.stderr
    upgraded = _cli(tmp_path, "db", "upgrade", SYNTHGOV_DATA_DIR=str(folder))
    assert upgraded.returncode == 0 and f"revision {migrate.head()}" in upgraded.stdout, upgraded.stderr
    assert _cli(tmp_path, "audit", "verify", SYNTHGOV_DATA_DIR=str(folder)).returncode == 0
