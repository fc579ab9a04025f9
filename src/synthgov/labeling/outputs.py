"""Outputs that land with their record, whatever crashes when (issue 11).

A labeled file is written to a temporary name beside its destination, the record is committed, and
only then is the file renamed into place. An intent file in ``{data_dir}/pending/`` names the
record, the temporary file and the destination (of one file, or of each file of a batch's group,
whose records commit together), and is held under an exclusive lock while its process works on
it. Recovery (at the start of every command and of the server) finishes what a dead process left:
the output of a committed record is moved into place, the output of a record that never committed
is deleted. So no crash leaves a labeled file without its record, or a record whose output the
caller cannot get.

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


@dataclass(frozen=True)
class Output:
    """One labeled file in flight: its record, the temporary name beside its destination, and where it goes."""

    record_id: str
    temporary: Path
    destination: Path


@dataclass
class PendingOutput:
    """The outputs of one transaction (one file, or a batch's group) under one intent file, locked
    while this process holds it: a batch commits a group of records together and pays the intent's
    and the folders' fsyncs once per group, not per file."""

    intent: Path
    outputs: list[Output]
    _fd: int | None = None

    @classmethod
    def begin(cls, folder: Path, entries: list[tuple[str, Path]]) -> PendingOutput:
        """The intent for ``entries`` (record id, destination), written and made durable."""
        import fcntl

        if not entries:
            raise ValueError("an intent names at least one output")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        outputs = [Output(rid, dest.with_name(f".{dest.name}.synthgov-{rid}.partial"), dest) for rid, dest in entries]
        intent = folder / f"{outputs[0].record_id}.json"
        fd = os.open(intent, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, json.dumps({"outputs": [{"record_id": o.record_id, "temporary": str(o.temporary.absolute()),
                                              "destination": str(o.destination.absolute())}
                                             for o in outputs]}).encode())
        os.fsync(fd)
        _fsync_dir(folder)
        return cls(intent, outputs, fd)

    def write(self, output: Output, data: bytes, mode: int) -> None:
        fd = os.open(output.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.fchmod(fd, mode)  # the umask does not narrow a configured mode
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def publish(self) -> dict[str, OSError]:
        """After the commit: every output into place (replacing only the file at its destination),
        each folder fsynced once. Returns the record ids whose output could not be moved, with the
        error; then the intent stays, and recovery finishes them later."""
        failed: dict[str, OSError] = {}
        folders: set[Path] = set()
        for output in self.outputs:
            try:
                os.replace(output.temporary, output.destination)
                folders.add(output.destination.parent)
            except OSError as exc:
                failed[output.record_id] = exc
        for folder in sorted(folders):
            try:
                _fsync_dir(folder)
            except OSError as exc:  # the files are in place; only the renames' durability is in doubt
                LOG.warning("could not fsync %s after moving outputs into it: %s", folder, exc)
        if not failed:
            self.release()
        return failed

    def abandon(self) -> None:
        """After a rollback: nothing of these outputs stays."""
        for output in self.outputs:
            output.temporary.unlink(missing_ok=True)
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
                outputs = _intent_outputs(json.loads(raw or b"{}"))
            except (ValueError, KeyError, TypeError):
                intent.unlink(missing_ok=True)  # torn at step 1: nothing was written yet
                continue
            for output in outputs:
                if committed(output.record_id):
                    if output.temporary.exists():
                        os.replace(output.temporary, output.destination)
                        _fsync_dir(output.destination.parent)
                        done.published.append(str(output.destination))
                        LOG.warning("recovered the output of record %s into %s", output.record_id, output.destination)
                elif output.temporary.exists():
                    output.temporary.unlink()
                    done.discarded.append(str(output.temporary))
            intent.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return done


def _intent_outputs(info: dict) -> list[Output]:
    """The outputs an intent names: ``{"outputs": [...]}``, or one output (intents written before groups)."""
    entries = info.get("outputs", [info])
    return [Output(str(e["record_id"]), Path(e["temporary"]), Path(e["destination"])) for e in entries]
