"""Checkpoints that leave the database: signed C2SP checkpoints appended to a file outside it and
cosigned by witnesses over HTTP (c2sp.org/tlog-witness).

Made automatically (every ``audit_checkpoint_every`` entries, every ``audit_checkpoint_seconds``
while a server runs, and when a process that appended closes its platform), and by
``synthgov audit checkpoint``. A checkpoint is only made for a log that is consistent with the
last one in the file: the log never signs a truncated or rewritten history of itself.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from synthgov.audit.notes import (
    Checkpoint,
    Note,
    NoteError,
    Signature,
    Verifier,
    log_verifier,
    parse_note,
    parse_signature_lines,
    sign_checkpoint,
)
from synthgov.audit.permissions import AuditPermission
from synthgov.audit.policy import AuditPolicy, Witness
from synthgov.errors import SynthgovError
from synthgov.permissions import Actor, ActorKind

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform

LOG = logging.getLogger("synthgov.audit")
CHECKPOINTER = Actor(ActorKind.SYSTEM, "checkpointer", frozenset({AuditPermission.AUDIT_READ.value}))
MAX_FILE_BYTES = 256 * 1024 * 1024
TAIL_BYTES = 256 * 1024


class CheckpointRefused(SynthgovError):
    """The log is not consistent with its last checkpoint, so no new one is signed."""


class WitnessRejected(SynthgovError):
    """A witness refused to cosign: it saw a larger or different log, or does not trust the key."""


class WitnessUnreachable(SynthgovError):
    """A witness did not answer (network, timeout, server error): nothing was learnt from it."""


@dataclass(frozen=True)
class Stored:
    """One checkpoint of the file: the note (with any cosignatures) and when it was made."""

    note: Note
    checkpoint: Checkpoint
    made_at: str
    line: int

    @property
    def size(self) -> int:
        return self.checkpoint.size


@dataclass
class FileReading:
    entries: list[Stored] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    torn_tail: bool = False

    @property
    def latest(self) -> Stored | None:
        return self.entries[-1] if self.entries else None


class CheckpointFile:
    """JSON Lines, one ``{"made_at": …, "note": "<signed note>"}`` per checkpoint, appended and
    fsynced under an exclusive lock. A crash mid-append leaves a torn last line: readers ignore it
    and the next append cuts it off first."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def lock(self) -> Iterator[None]:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def read(self) -> FileReading:
        """Every checkpoint of the file (``audit verify``)."""
        try:
            if self.path.stat().st_size > MAX_FILE_BYTES:
                return FileReading(problems=[f"checkpoint file {self.path} is larger than {MAX_FILE_BYTES} bytes"])
            return _parse_lines(self.path.read_bytes(), self.path)
        except FileNotFoundError:
            return FileReading()

    def tail(self, window: int = TAIL_BYTES) -> FileReading:
        """The last checkpoints only (making a checkpoint needs the newest, not the whole history)."""
        try:
            with self.path.open("rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - window))
                raw = fh.read()
        except FileNotFoundError:
            return FileReading()
        if len(raw) < size:
            raw = raw[raw.find(b"\n") + 1 :]  # drop the partial first line
        return _parse_lines(raw, self.path)

    def append(self, note: Note, made_at: str) -> None:
        """Append one checkpoint (call under :meth:`lock`)."""
        line = json.dumps({"made_at": made_at, "note": str(note)}, ensure_ascii=False).encode() + b"\n"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size:
                os.lseek(fd, size - 1, os.SEEK_SET)
                if os.read(fd, 1) != b"\n":  # cut off a torn tail left by a crash
                    os.ftruncate(fd, _last_newline(fd, size) + 1)
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def _parse_lines(raw: bytes, path: Path | str) -> FileReading:
    reading = FileReading()
    lines = raw.split(b"\n")
    if lines and lines[-1]:
        reading.torn_tail = True  # an append that did not finish: not a checkpoint
    for number, line in enumerate(lines[:-1], 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            note = parse_note(obj["note"])
            reading.entries.append(Stored(note, Checkpoint.from_text(note.text), str(obj.get("made_at", "")),
                                          number))
        except (ValueError, KeyError, TypeError, NoteError) as exc:
            reading.problems.append(f"checkpoint file {path} line {number} is damaged: {exc}")
    return reading


def _last_newline(fd: int, size: int) -> int:
    """Offset of the last newline in the file (-1 if none), reading backwards in blocks."""
    end = size
    while end > 0:
        start = max(0, end - (1 << 16))
        os.lseek(fd, start, os.SEEK_SET)
        block = os.read(fd, end - start)
        found = block.rfind(b"\n")
        if found >= 0:
            return start + found
        end = start
    return -1


# -- keys ------------------------------------------------------------------------------------------
def log_verifiers(platform: Platform, origin: str | None = None) -> list[Verifier]:
    """Every key the log may have signed its checkpoints with (the initial and each rotated key)."""
    name = origin or platform.policy(AuditPolicy).origin
    if not name:
        return []
    return [log_verifier(name, spki, alg) for spki, alg in platform.keys.audit_public_keys()]


# -- making checkpoints ----------------------------------------------------------------------------
@dataclass
class CheckpointOutcome:
    made: bool
    size: int
    note: str
    witnesses: dict[str, str] = field(default_factory=dict)  # witness name -> "cosigned" or why not
    problems: list[str] = field(default_factory=list)  # witnesses that refused: evidence against the log
    unreachable: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"made": self.made, "size": self.size, "note": self.note, "witnesses": self.witnesses,
                "problems": self.problems, "unreachable": self.unreachable}


def make_checkpoint(platform: Platform, *, force: bool = False) -> CheckpointOutcome:
    """Sign the log's checkpoint now, ask every witness to cosign it, append it to the file.

    Refuses (:class:`CheckpointRefused`) when the log is smaller than the file's last checkpoint or
    its root at that size differs. Without ``force``, nothing is made if the log has not grown.
    """
    from synthgov.audit import service

    policy = platform.policy(AuditPolicy)
    if not policy.origin:
        raise CheckpointRefused("no provider is configured yet (run `synthgov init`), so the log has no origin")
    file = CheckpointFile(policy.checkpoint_file)
    with file.lock():
        reading = file.tail()
        ours = [e for e in reading.entries if e.checkpoint.origin == policy.origin]
        latest = ours[-1] if ours else None
        with platform.unit_of_work(CHECKPOINTER) as ctx:
            size, tree = service.log_state(ctx)
            if latest is not None:
                if size < latest.size:
                    raise CheckpointRefused(
                        f"the log holds {size} entries but {file.path} has a signed checkpoint of size "
                        f"{latest.size}: the log was truncated; no checkpoint made")
                if latest.size and service.root_at(ctx, latest.size, tree) != latest.checkpoint.root:
                    raise CheckpointRefused(
                        f"the log's root at size {latest.size} differs from the signed checkpoint in {file.path}: "
                        "its history was rewritten; no checkpoint made")
                if size == latest.size and not force:
                    return CheckpointOutcome(False, size, str(latest.note))
            root = service.root_at(ctx, size, tree)
        signer, alg = platform.keys.audit_signer()
        note = sign_checkpoint(Checkpoint(policy.origin, size, root), signer, alg)
        outcome = CheckpointOutcome(True, size, "")

        def prove(old: int) -> list[bytes]:
            if old in (0, size):
                return []
            with platform.unit_of_work(CHECKPOINTER) as ctx:
                return service.consistency_hashes(ctx, old, size)

        cosignatures: list[Signature] = []
        for witness in policy.witnesses:
            verifier = Verifier.parse(witness.key)
            old = next((e.size for e in reversed(ours) if e.note.signature_of(verifier) and e.size <= size), 0)
            try:
                cosignatures.append(push(witness, note, size, old, prove, policy.witness_timeout))
                outcome.witnesses[verifier.name] = "cosigned"
            except WitnessRejected as exc:
                outcome.witnesses[verifier.name] = str(exc)
                outcome.problems.append(str(exc))
            except WitnessUnreachable as exc:
                outcome.witnesses[verifier.name] = str(exc)
                outcome.unreachable.append(str(exc))
        note = note.with_signatures(cosignatures)
        file.append(note, datetime.now(UTC).isoformat(timespec="seconds"))
    outcome.note = str(note)
    for problem in outcome.problems:
        LOG.error("witness refused the checkpoint of size %d: %s", size, problem)
    return outcome


# -- the witness client -----------------------------------------------------------------------------
def push(witness: Witness, note: Note, size: int, old: int, prove: Callable[[int], list[bytes]],
         timeout: float) -> Signature:
    """``add-checkpoint`` with a consistency proof from the size the witness last cosigned; one
    retry when the witness answers with another size (409)."""
    verifier = Verifier.parse(witness.key)
    who = verifier.name
    for _ in range(3):
        proof = prove(old)
        body = (f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n"
                + str(note)).encode()
        status, content_type, text = _post(f"{witness.url}/add-checkpoint", body, timeout)
        if status == 200:
            try:
                mine = [s for s in parse_signature_lines(text) if s.name == who and s.key_id == verifier.id]
            except NoteError as exc:
                raise WitnessRejected(f"witness {who} answered with malformed signatures: {exc}") from exc
            good = [s for s in mine if verifier.verify(note.text.encode(), s.signature)]
            if not good:
                raise WitnessRejected(f"witness {who} answered without a valid cosignature of its key")
            return good[0]
        if status == 409 and content_type.startswith("text/x.tlog.size"):
            try:
                seen = int(text.strip())
            except ValueError as exc:
                raise WitnessRejected(f"witness {who} answered 409 without a size") from exc
            if seen > size:
                raise WitnessRejected(
                    f"witness {who} has cosigned this log at size {seen}, larger than the log now ({size}): "
                    "the log was truncated or rolled back")
            if seen == old:
                raise WitnessRejected(f"witness {who} holds another root for size {seen}: the log forked")
            old = seen
            continue
        if status == 409:
            raise WitnessRejected(f"witness {who} holds another root for size {size}: the log forked")
        if status == 422:
            raise WitnessRejected(
                f"witness {who} rejected the consistency proof from size {old}: this log does not extend the one "
                "it saw (history rewritten or forked)")
        if status == 403:
            raise WitnessRejected(f"witness {who} does not trust the key that signed this checkpoint "
                                  "(after a key rotation, add the new key to the witness's configuration)")
        if status == 404:
            raise WitnessRejected(f"witness {who} does not witness the origin {note.text.splitlines()[0]!r}")
        if status >= 500:
            raise WitnessUnreachable(f"witness {who} failed (HTTP {status})")
        raise WitnessRejected(f"witness {who} refused the checkpoint (HTTP {status}: {text[:200].strip()})")
    raise WitnessRejected(f"witness {who} kept changing its size; giving up")


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str, str]:
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise WitnessUnreachable(f"witness URL {url} is not http(s)")
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - checked just above
                                     headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            return response.status, response.headers.get("Content-Type", ""), response.read(1 << 16).decode(
                "utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read(1 << 16).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WitnessUnreachable(f"witness at {url} is unreachable: {reason}") from exc


def fetch_checkpoints(source: str) -> FileReading:
    """Checkpoints from ``--checkpoint FILE_OR_URL``: a checkpoint file, a single signed note, or a
    URL answering either (for example another instance's ``GET /v1/audit/checkpoint``)."""
    if source.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 - the user's URL
                raw = response.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:
                return FileReading(problems=[f"{source} answered more than {MAX_FILE_BYTES} bytes"])
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise WitnessUnreachable(f"cannot fetch checkpoints from {source}: {getattr(exc, 'reason', exc)}") from exc
        return _parse_source(raw, source)
    path = Path(source)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return FileReading(problems=[f"{source} is larger than {MAX_FILE_BYTES} bytes"])
        raw = path.read_bytes()
    except OSError as exc:
        raise CheckpointRefused(f"cannot read checkpoints from {source}: {exc.strerror}") from exc
    return _parse_source(raw, source)


def _parse_source(raw: bytes, source: str) -> FileReading:
    if raw.lstrip().startswith(b"{"):
        return _parse_lines(raw, source)
    try:
        note = parse_note(raw)
        return FileReading([Stored(note, Checkpoint.from_text(note.text), "", 1)])
    except NoteError as exc:
        return FileReading(problems=[f"{source} is neither a checkpoint file nor a signed checkpoint: {exc}"])


# -- lifecycle ---------------------------------------------------------------------------------------
def install(platform: Platform) -> None:
    """Automatic checkpoints: after commits that appended ``checkpoint_every`` entries since the
    last one, every ``checkpoint_seconds`` while a server runs, and when a process that appended
    closes its platform."""
    policy = platform.policy(AuditPolicy)
    if not policy.origin:
        return  # before `synthgov init`: the checkpoint of the first entries comes with the next process
    state = {"checkpointed": -1, "dirty": False}

    def run() -> None:
        outcome = make_checkpoint(platform)
        state["checkpointed"], state["dirty"] = outcome.size, False

    def after_append(size: int) -> None:
        state["dirty"] = True
        if state["checkpointed"] < 0:
            latest = CheckpointFile(policy.checkpoint_file).tail().latest
            state["checkpointed"] = latest.size if latest else 0
        if size - int(state["checkpointed"]) >= policy.checkpoint_every:
            run()

    def periodic() -> None:
        if state["dirty"]:
            run()

    def at_close() -> None:
        if state["dirty"]:
            run()

    platform.append_hooks.append(after_append)
    platform.periodic.append((policy.checkpoint_seconds, periodic))
    platform.close_hooks.append(at_close)
