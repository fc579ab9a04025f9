"""Crash-safe outputs: the process is killed at each step of labeling a file, many times, and
afterwards every committed record has its output in place, no output exists without its record,
nothing temporary is left and the log verifies."""

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from synthgov.audit import verification
from synthgov.labeling.policy import LabelingPolicy
from synthgov.labeling.service import label_file, recover_outputs
from synthgov.records.models import GenerationRecord

ROOT = Path(__file__).parents[2]

CRASH = {
    # step name -> the code that makes the process die right there
    "intent-written": "from synthgov.labeling import outputs\n"
                      "outputs.PendingOutput.write = lambda *a, **k: os._exit(9)\n",
    "output-written": "from sqlalchemy.orm import Session\n"
                      "Session.commit = lambda self: os._exit(9)\n",
    "committed": "from synthgov.labeling import outputs\n"
                 "outputs.os.replace = lambda *a, **k: os._exit(9)\n",
    "published": "from synthgov.labeling import outputs\n"
                 "outputs.PendingOutput.release = lambda self: os._exit(9)\n",
}


def label_in_a_process(settings, source, destination, crash: str) -> subprocess.CompletedProcess:
    script = ("import os, sys\n" + crash +
              "from synthgov.bootstrap import open_platform\n"
              "from synthgov.config import load_settings\n"
              "from synthgov.labeling.service import label_file\n"
              "from synthgov.permissions import Actor\n"
              "from pathlib import Path\n"
              "p = open_platform(load_settings(data_dir=sys.argv[1], database_url=sys.argv[2]))\n"
              "with p.unit_of_work(Actor.operator('crash')) as ctx:\n"
              "    label_file(ctx, source=Path(sys.argv[3]), destination=Path(sys.argv[4]), visible=False,"
              " watermark=False, overwrite=True)\n")
    return subprocess.run([sys.executable, "-c", script, str(settings.data_dir), settings.resolved_database_url,
                           str(source), str(destination)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def check_invariants(platform, operator, folder: Path):
    recover_outputs(platform)
    with platform.sessionmaker() as s:
        records = list(s.scalars(select(GenerationRecord)))
    by_sha = {r.output_sha256 for r in records}
    outputs = [p for p in folder.iterdir() if p.suffix == ".png" and not p.name.startswith(".")]
    for path in outputs:  # no output without its record
        assert hashlib.sha256(path.read_bytes()).hexdigest() in by_sha, path
    on_disk = {hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs}
    for record in records:  # no committed record whose output the caller cannot get
        assert record.output_sha256 in on_disk, record.id
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "temporary files left behind"
    assert not list(platform.policy(LabelingPolicy).pending_dir.glob("*.json"))
    result = verification.verify(platform, operator, witnesses=False)
    assert result.ok, result.problems
    return len(records)


@pytest.mark.parametrize("step", list(CRASH))
def test_a_crash_at_each_step_loses_nothing(platform, operator, settings, sample_files, tmp_path, step):
    folder = tmp_path / "out"
    folder.mkdir()
    for attempt in range(3):
        done = label_in_a_process(settings, sample_files["photo.png"], folder / f"{step}-{attempt}.png", CRASH[step])
        assert done.returncode == 9, done.stderr
    made = check_invariants(platform, operator, folder)
    assert made == (0 if step in ("intent-written", "output-written") else 3)
    if step in ("committed", "published"):
        assert sorted(p.name for p in folder.iterdir()) == [f"{step}-{i}.png" for i in range(3)]


GROUP_SCRIPT = (
    "import os, sys\n{crash}"
    "from synthgov.bootstrap import open_platform\n"
    "from synthgov.config import load_settings\n"
    "from synthgov.labeling.service import label_files\n"
    "p = open_platform(load_settings(data_dir=sys.argv[1], database_url=sys.argv[2]))\n"
    "items = [dict(source=sys.argv[3], destination=d, user=None, visible=False, watermark=False, overwrite=False,"
    " actor='crash') for d in sys.argv[4:]]\n"
    "print(list(label_files(p, items)))\n")


@pytest.mark.parametrize("step", ["output-written", "committed", "published"])
def test_a_batch_group_commits_and_recovers_as_one(platform, operator, settings, sample_files, tmp_path, step):
    """A batch labels a group of files in one transaction under one intent: a crash before the
    commit leaves none of them, a crash after it leaves all of them (recovery moves them in)."""
    folder = tmp_path / "out"
    folder.mkdir()
    names = [str(folder / f"g{i}.png") for i in range(3)]
    done = subprocess.run([sys.executable, "-c", GROUP_SCRIPT.format(crash=CRASH[step]), str(settings.data_dir),
                           settings.resolved_database_url, str(sample_files["photo.png"]), *names], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    intents = list(platform.policy(LabelingPolicy).pending_dir.glob("*.json"))
    assert len(intents) == 1  # one intent for the group, whatever the step
    made = check_invariants(platform, operator, folder)
    assert made == (0 if step == "output-written" else 3)
    assert sorted(p.name for p in folder.iterdir()) == ([] if step == "output-written" else ["g0.png", "g1.png",
                                                                                            "g2.png"])


def test_a_bad_file_in_a_group_leaves_the_others_committed(platform, sample_files, tmp_path):
    from synthgov.labeling.service import label_files

    bad = tmp_path / "cut.png"
    bad.write_bytes(sample_files["photo.png"].read_bytes()[:500])
    out = tmp_path / "out"
    out.mkdir()
    items = [dict(source=str(src), destination=str(out / f"{i}.png"), user=None, visible=False, watermark=False,
                  overwrite=False, actor="batch") for i, src in enumerate([sample_files["photo.png"], bad,
                                                                           sample_files["photo.png"]])]
    results = list(label_files(platform, items))
    assert [r["status"] for r in results] == ["labeled", "error", "labeled"]
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "2.png"]
    with platform.sessionmaker() as s:
        ids = {r.id for r in s.scalars(select(GenerationRecord))}
    assert ids == {results[0]["record"]["id"], results[2]["record"]["id"]}
    again = list(label_files(platform, items))  # resumed: the outputs exist, nothing is labeled twice
    assert [r["status"] for r in again] == ["skipped", "error", "skipped"]


def test_sigkill_at_random_moments(platform, operator, settings, sample_files, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    rng = random.Random(11)
    for i in range(12):
        proc = subprocess.Popen([sys.executable, "-m", "synthgov", "--data-dir", str(settings.data_dir),
                                 "--database-url", settings.resolved_database_url, "label", "image",
                                 str(sample_files["photo.png"]), "-o", str(folder / f"k{i}.png"),
                                 "--no-visible"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 3.0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    check_invariants(platform, operator, folder)


def test_overwrite_replaces_only_the_file_and_refuses_a_folder(platform, operator, sample_files, tmp_path):
    from synthgov.errors import Conflict, InvalidInput

    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(Conflict), platform.unit_of_work(operator) as ctx:
        label_file(ctx, source=sample_files["photo.png"], destination=target, visible=False)
    assert target.read_bytes() == b"old"
    with platform.unit_of_work(operator) as ctx:
        label_file(ctx, source=sample_files["photo.png"], destination=target, visible=False, overwrite=True)
    assert target.read_bytes() != b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    folder = tmp_path / "a-folder.png"
    folder.mkdir()
    with pytest.raises(InvalidInput, match="is a folder"), platform.unit_of_work(operator) as ctx:
        label_file(ctx, source=sample_files["photo.png"], destination=folder, visible=False, overwrite=True)
    assert folder.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["a-folder.png", "out.png"]


def test_outputs_follow_the_umask_or_the_setting(platform, reconfigure, operator, sample_files, tmp_path):
    old = os.umask(0o027)
    try:
        with platform.unit_of_work(operator) as ctx:
            label_file(ctx, source=sample_files["photo.png"], destination=tmp_path / "u.png", visible=False)
    finally:
        os.umask(old)
    assert (tmp_path / "u.png").stat().st_mode & 0o777 == 0o640
    plat = reconfigure(output_mode="604")
    with plat.unit_of_work(operator) as ctx:
        label_file(ctx, source=sample_files["photo.png"], destination=tmp_path / "m.png", visible=False)
    assert (tmp_path / "m.png").stat().st_mode & 0o777 == 0o604


def test_the_database_and_keys_are_the_owners_only(platform, settings):
    if platform.engine.dialect.name == "sqlite":
        assert (settings.data_dir / "synthgov.db").stat().st_mode & 0o077 == 0
    for key in (settings.data_dir / "keys").glob("*.pem"):
        assert key.stat().st_mode & 0o077 == 0, key


def test_a_group_commits_early_once_its_outputs_reach_the_byte_cap(platform, sample_files, tmp_path, monkeypatch):
    """The outputs of a group wait in memory for the commit: large ones close the group early."""
    from synthgov.labeling import outputs, service

    begun: list[int] = []
    begin = outputs.PendingOutput.begin

    def counting(folder, entries):
        begun.append(len(entries))
        return begin(folder, entries)

    monkeypatch.setattr(outputs.PendingOutput, "begin", staticmethod(counting))
    out = tmp_path / "out"
    out.mkdir()

    def items(tag):
        return [dict(source=str(sample_files["photo.png"]), destination=str(out / f"{tag}{i}.png"), user=None,
                     visible=False, watermark=False, overwrite=False, actor="batch") for i in range(3)]

    assert [r["status"] for r in service.label_files(platform, items("a"))] == ["labeled"] * 3
    assert begun == [3]  # one transaction, one intent for the group
    monkeypatch.setattr(service, "GROUP_BYTES", 1)
    assert [r["status"] for r in service.label_files(platform, items("b"))] == ["labeled"] * 3
    assert begun == [3, 1, 1, 1]
