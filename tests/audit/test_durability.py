"""SIGKILL during a burst of appends, and many processes appending at once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from synthgov.audit import checks, service
from synthgov.audit.models import AuditEvent
from synthgov.identity.events import ApiKeyRevoked

ROOT = Path(__file__).parents[2]


def spawn(settings, count, tag):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.audit.appender", str(settings.data_dir), settings.resolved_database_url,
         str(count), tag],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )


def stored(platform) -> list[int]:
    with platform.sessionmaker() as s:
        return list(s.scalars(select(AuditEvent.idx).order_by(AuditEvent.idx)))


def test_sigkill_during_burst_loses_no_committed_event(platform, operator, settings):
    proc = spawn(settings, 10_000, "burst")
    committed = []
    deadline = time.monotonic() + 120
    while len(committed) < 1500 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    rest, err = proc.communicate(timeout=30)
    committed += [int(x) for x in rest.split()]
    assert proc.returncode == -signal.SIGKILL, err
    assert len(committed) >= 1500, err
    indexes = stored(platform)
    assert set(committed) <= set(indexes)  # every committed event is there
    assert indexes == list(range(len(indexes)))  # contiguous, none duplicated
    with platform.unit_of_work(operator) as ctx:
        result = checks.verify_log(ctx)
        assert result.ok, result.problems
        assert service.tree_head(ctx).size == len(indexes)
        assert service.record(ctx, ApiKeyRevoked("after-kill")) == len(indexes)  # appending goes on
    with platform.unit_of_work(operator) as ctx:
        assert checks.verify_log(ctx).ok


def test_concurrent_appenders_build_one_tree(platform, operator, settings):
    procs = [spawn(settings, 150, f"p{i}") for i in range(8)]
    seen = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        seen += [int(x) for x in out.split()]
    assert len(seen) == len(set(seen)) == 1200
    indexes = stored(platform)
    assert indexes == list(range(1201))  # entry 0 is init's
    with platform.sessionmaker() as s:
        assert s.scalar(select(func.count(func.distinct(AuditEvent.actor)))) == 9
    with platform.unit_of_work(operator) as ctx:
        result = checks.verify_log(ctx)
        assert result.ok, result.problems
        head = service.tree_head(ctx)
    assert head.size == 1201 and head.root == result.root
