"""Batch workers are forked from a fork server that a long-lived process starts once: each run's
workers must still work in the caller's folder and with its ``SYNTHGOV_*`` settings of that run."""

import os

from synthgov.cli import batch


def report(platform, items):
    """A worker task: where and with what settings it ran."""
    return [{"cwd": os.getcwd(), "fingerprint": os.environ.get("SYNTHGOV_FINGERPRINT"),
             "data_dir": str(platform.settings.data_dir)} for _ in items]


def _run(platform):
    return list(batch.run("tests.cli.test_workers.report", [{}] * 4, jobs=2, chunk=1,
                          data_dir=platform.settings.data_dir, database_url=platform.settings.database_url))


def test_workers_take_the_callers_folder_and_settings_on_every_run(platform, tmp_path, monkeypatch):
    monkeypatch.delenv("SYNTHGOV_FINGERPRINT", raising=False)
    first = _run(platform)
    assert {r["fingerprint"] for r in first} == {None}
    assert {r["data_dir"] for r in first} == {str(platform.settings.data_dir)}
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setenv("SYNTHGOV_FINGERPRINT", "false")
    second = _run(platform)
    assert {r["cwd"] for r in second} == {str(tmp_path / "elsewhere")}
    assert {r["fingerprint"] for r in second} == {"false"}
