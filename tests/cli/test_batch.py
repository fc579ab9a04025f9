"""Folders and batches through the real command: `synthgov inspect PATH...` and `synthgov label image
SOURCE... -o FOLDER` with include/exclude patterns, worker processes, JSON Lines, a bad file in the
middle, and an interrupted run resumed without duplicating a record (SQLite and PostgreSQL)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.test_cli import run  # noqa: F401 - the fixture

CORPUS = ["photo.jpg", "photo.png", "lossy.webp", "photo.gif", "photo.avif", "photo.tif"]


@pytest.fixture
def folder(tmp_path, samples):
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for i, name in enumerate(CORPUS):
        (root / ("sub" if i % 2 else "") / name).write_bytes(samples[name])
    (root / "sub" / "deeper" / "cut.jpg").write_bytes(samples["photo.jpg"][:300])  # a bad file in the middle
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden" / "x.png").write_bytes(samples["photo.png"])
    (root / "sub" / "skip-me.png").write_bytes(samples["photo.png"])
    return root


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_inspect_walks_folders_with_patterns_and_jobs(run, folder):  # noqa: F811
    (folder / "sub" / "noise.jpg").write_bytes(bytes(range(256)) * 4)  # not an image at all
    one = run("inspect", str(folder), "--exclude", "skip-*", "--jsonl", "-", ok=False)
    assert one.returncode == 1  # a file could not be read as an image
    found = {os.path.relpath(r["name"], folder): r for r in _lines(one.stdout)}
    expected = {name if i % 2 == 0 else f"sub/{name}" for i, name in enumerate(CORPUS)}
    assert set(found) == expected | {"sub/deeper/cut.jpg", "sub/noise.jpg"}  # no .txt, hidden or excluded file
    assert found["sub/noise.jpg"]["status"] == "error"
    assert found["sub/deeper/cut.jpg"]["problems"][0].startswith("container damaged: JPEG is truncated")
    assert all(found[name]["status"] == "unlabeled" for name in expected)
    two = run("inspect", str(folder), "--exclude", "skip-*", "--jsonl", "-", "--jobs", "2", "--metadata-only",
              ok=False)
    assert {r["name"] for r in _lines(two.stdout)} == {r["name"] for r in _lines(one.stdout)}
    only = _lines(run("inspect", str(folder), "--include", "*.png", "--jsonl", "-").stdout)
    assert sorted(os.path.relpath(r["name"], folder) for r in only) == ["sub/photo.png", "sub/skip-me.png"]


def test_inspect_resumes_from_its_json_lines(run, folder, tmp_path):  # noqa: F811
    results = tmp_path / "results.jsonl"
    first = _lines(run("inspect", str(folder), "--jsonl", "-", "--metadata-only", ok=False).stdout)
    results.write_text("".join(json.dumps(r) + "\n" for r in first[:3]) + '{"name": "torn')  # interrupted
    run("inspect", str(folder), "--resume", str(results), "--metadata-only", ok=False)
    kept = [line for line in results.read_text().splitlines() if not line.startswith('{"name": "torn')]
    again = _lines("\n".join(kept))
    assert sorted(r["name"] for r in again) == sorted(r["name"] for r in first)  # each once


def _records(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM generation_records")).scalar_one()
    engine.dispose()
    return int(count)


def test_label_a_folder_in_workers_skips_what_is_done(run, folder, tmp_path, database_url):  # noqa: F811
    out = tmp_path / "out"
    first = run("label", "image", str(folder), "-o", str(out), "--jobs", "2", "--no-visible", "--no-watermark",
                "--exclude", "skip-*", "--jsonl", "-", ok=False)
    assert first.returncode == 1
    results = {r["input"]: r for r in _lines(first.stdout)}
    labeled = [r for r in results.values() if r["status"] == "labeled"]
    assert len(labeled) == len(CORPUS) and results[str(folder / "sub/deeper/cut.jpg")]["status"] == "error"
    assert "truncated" in results[str(folder / "sub/deeper/cut.jpg")]["error"]  # labeling refuses damage
    for r in labeled:  # the layout below the folder is kept, and each output carries its record's label
        assert os.path.relpath(r["output"], out) == os.path.relpath(r["input"], folder)
        report = json.loads(run("inspect", r["output"], "--json", "--metadata-only").stdout)["files"][0]
        assert report["labels"][0]["record"]["id"] == r["record"]["id"]
    again = _lines(run("label", "image", str(folder), "-o", str(out), "--no-visible", "--no-watermark",
                       "--exclude", "skip-*", "--jsonl", "-", ok=False).stdout)
    assert sorted(r["status"] for r in again) == ["error"] + ["skipped"] * len(CORPUS)
    assert _records(database_url) == len(CORPUS)
    inner = folder / "labeled"  # an output folder inside the source folder is never read as a source
    for _ in range(2):
        run("label", "image", str(folder), "-o", str(inner), "--no-visible", "--no-watermark",
            "--exclude", "skip-*", "--exclude", "deeper")
    assert _records(database_url) == 2 * len(CORPUS)
    assert not (inner / "labeled").exists()


def test_an_interrupted_batch_resumes_without_duplicates(run, samples, tmp_path, database_url):  # noqa: F811
    from PIL import Image

    source = tmp_path / "many"
    source.mkdir()
    photo = Image.open(__import__("io").BytesIO(samples["photo.png"])).convert("RGB")
    for i in range(40):  # several groups (batch.LABEL_GROUP files commit together)
        photo.rotate(i * 7).save(source / f"img-{i:02}.png")
    out = tmp_path / "out"
    env = dict(os.environ, SYNTHGOV_DATA_DIR=str(tmp_path / "data"), SYNTHGOV_DATABASE_URL=database_url)
    proc = subprocess.Popen([sys.executable, "-m", "synthgov", "label", "image", str(source), "-o", str(out),
                             "--jobs", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*.png"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers, mid-batch
    proc.wait()
    assert len(list(out.glob("*.png"))) < 40
    resumed = _lines(run("label", "image", str(source), "-o", str(out), "--jobs", "2", "--jsonl", "-").stdout)
    statuses = [r["status"] for r in resumed]
    assert statuses.count("labeled") + statuses.count("skipped") == 40 and "error" not in statuses
    produce_ids = set()
    for path in sorted(out.glob("*.png")):
        report = json.loads(run("inspect", str(path), "--json", "--metadata-only").stdout)["files"][0]
        produce_ids.add(report["labels"][0]["fields"]["ProduceID"])
    assert len(produce_ids) == 40 and _records(database_url) == 40  # one record per output, none without
    verified = json.loads(run("audit", "verify", "--offline", "--json").stdout)
    assert verified["ok"] and verified["rows_checked"] >= 40


def test_an_unusable_json_lines_path_is_a_one_line_error(run, folder, tmp_path):  # noqa: F811
    for option in ("--resume", "--jsonl"):
        proc = run("inspect", str(folder), option, str(tmp_path), ok=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.strip().count("\n") == 0 and "Is a directory" in proc.stderr


def test_json_lines_are_written_in_groups_and_all_there_after_an_interruption(tmp_path):
    """Lines are flushed in groups, not one by one; whatever stops the run, the finished lines are
    in the file (``drive`` closes the sink on the way out), each whole."""
    from synthgov.cli import batch

    target = tmp_path / "out.jsonl"
    target.write_text('{"name": "a"}\n{"name": "torn')  # an earlier run killed mid-line

    def results():
        for n in range(batch.JsonLines.FLUSH_LINES + 3):
            yield {"name": f"f{n}"}
        raise KeyboardInterrupt

    sink = batch.JsonLines(str(target))
    with pytest.raises(KeyboardInterrupt):
        batch.drive(results(), 10, "testing", sink, batch.encode)
    lines = target.read_text().splitlines()
    assert lines[1] == '{"name": "torn'
    assert [json.loads(line)["name"] for line in lines[2:]] == [f"f{n}" for n in range(batch.JsonLines.FLUSH_LINES + 3)]
    assert batch.done_in(target, "name") == {"a"} | {f"f{n}" for n in range(batch.JsonLines.FLUSH_LINES + 3)}


def test_folder_patterns_match_names_without_case_and_paths_below_the_folder(tmp_path):
    from pathlib import Path

    from synthgov.cli import batch

    for name in ("a/B.PNG", "a/c.jpg", "a/skip/d.png", "e.webp", "f.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = batch.collect([tmp_path], [], ["a/skip"], [".png", ".jpg", ".webp"])
    assert [i.relative.as_posix() for i in found] == ["e.webp", "a/B.PNG", "a/c.jpg"]
    found = batch.collect([tmp_path], ["a/*.jpg", "*.WEBP"], [], [])
    assert [i.relative.as_posix() for i in found] == ["e.webp", "a/c.jpg"]
    assert [i.relative for i in batch.collect([tmp_path / "f.txt"], [], [], [".png"])] == [Path("f.txt")]


def test_a_file_name_that_is_not_utf8_is_labeled_inspected_and_resumed(run, samples, tmp_path):  # noqa: F811
    """Names Python decodes with surrogates (PEP 383) go into JSON as escapes: valid UTF-8 that
    reads back to the same name; the command never dies on writing them."""
    source = tmp_path / "src"
    source.mkdir()
    weird = os.fsdecode(b"bad\xffname.jpg")
    (source / weird).write_bytes(samples["photo.jpg"])
    labeled_lines = tmp_path / "labeled.jsonl"
    run("label", "image", str(source), "-o", str(tmp_path / "out"), "--no-watermark", "--jsonl", str(labeled_lines))
    labeled = json.loads(labeled_lines.read_bytes().decode("utf-8"))
    assert labeled["status"] == "labeled" and labeled["output"] == str(tmp_path / "out" / weird)
    found = tmp_path / "found.jsonl"
    for jobs in ("1", "2"):
        found.unlink(missing_ok=True)
        run("inspect", str(tmp_path / "out"), "--jsonl", str(found), "--jobs", jobs)
        (line,) = found.read_bytes().decode("utf-8").splitlines()
        assert json.loads(line)["name"] == str(tmp_path / "out" / weird)
        assert json.loads(line)["status"] == "labeled"
    whole = run("inspect", str(tmp_path / "out" / weird), "--json")
    assert json.loads(whole.stdout)["files"][0]["name"] == str(tmp_path / "out" / weird)
    again = run("inspect", str(tmp_path / "out"), "--resume", str(found))
    assert "0 inspected; 1 were already in" in again.stderr and len(found.read_text().splitlines()) == 1
