"""Outputs that land with their record, whatever crashes when (issue 11).

A labeled file is written to a temporary name beside its destination, the record is committed, and
only then is the file renamed into place. An intent file in ``{data_dir}/pending/`` names the
record, the temporary file and the destination, and is held under an exclusive lock while its
process works on it. Recovery (at the start of every command and of the server) finishes what a
dead process left: the output of a committed record is moved into place, the output of a record
that never committed is deleted. So no crash leaves a labeled file without its record, or a record
whose output the caller cannot get.

Steps, and what a crash after each leaves for recovery:
1. intent written (locked)            -> no record: intent removed
2. temporary output written, fsynced  -> no record: temporary file and intent removed
3. record committed                   -> record: temporary file renamed onto the destination
4. renamed (directory fsynced)        -> record, output in place: intent removed
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger("synthgov.labeling")


def file_mode(configured: int | None) -> int:
    """The mode of new output files: configured, or what the umask leaves of 0o666 (like any tool)."""
    if configured is not None:
        return configured
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


@dataclass
class PendingOutput:
    """One output in flight: the intent file (locked while this process holds it) and its paths."""

    intent: Path
    record_id: str
    temporary: Path
    destination: Path
    _fd: int | None = None

    @classmethod
    def begin(cls, folder: Path, record_id: str, destination: Path) -> PendingOutput:
        import fcntl

        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = destination.with_name(f".{destination.name}.synthgov-{record_id}.partial")
        intent = folder / f"{record_id}.json"
        fd = os.open(intent, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, json.dumps({"record_id": record_id, "temporary": str(temporary.absolute()),
                                 "destination": str(destination.absolute())}).encode())
        os.fsync(fd)
        _fsync_dir(folder)
        return cls(intent, record_id, temporary, destination, fd)

    def write(self, data: bytes, mode: int) -> None:
        fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.fchmod(fd, mode)  # the umask does not narrow a configured mode
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def publish(self) -> None:
        """After the commit: the output into place (replacing only the file at the destination)."""
        os.replace(self.temporary, self.destination)
        _fsync_dir(self.destination.parent)
        self.release()

    def abandon(self) -> None:
        """After a rollback: nothing of this output stays."""
        self.temporary.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        self.intent.unlink(missing_ok=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Recovered:
    published: list[str]  # destinations that got their committed output
    discarded: list[str]  # temporary outputs of records that never committed


def recover(folder: Path, committed: Callable[[str], bool]) -> Recovered:
    """Finish what dead processes left in ``folder``; intents still locked by a live process are
    left alone. ``committed(record_id)`` says whether that record exists."""
    import fcntl

    done = Recovered([], [])
    if not folder.is_dir():
        return done
    for intent in sorted(folder.glob("*.json")):
        try:
            fd = os.open(intent, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live process is working on it
            raw = os.read(fd, 1 << 16)
            if not raw:
                import time

                if time.time() - os.fstat(fd).st_mtime < 60:
                    continue  # just created: its process takes the lock in a moment
            try:
                info = json.loads(raw or b"{}")
                temporary, destination = Path(info["temporary"]), Path(info["destination"])
                record_id = str(info["record_id"])
            except (ValueError, KeyError, TypeError):
                intent.unlink(missing_ok=True)  # torn at step 1: nothing was written yet
                continue
            if committed(record_id):
                if temporary.exists():
                    os.replace(temporary, destination)
                    _fsync_dir(destination.parent)
                    done.published.append(str(destination))
                    LOG.warning("recovered the output of record %s into %s", record_id, destination)
            elif temporary.exists():
                temporary.unlink()
                done.discarded.append(str(temporary))
            intent.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return done
