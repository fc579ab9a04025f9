"""Folders and batches for the CLI: which files a command works on, worker processes, progress, JSON
Lines, and resuming an interrupted run (``synthgov inspect PATH...``, ``synthgov label image SOURCE...``).

Work is done by the service layer in each worker process (its own platform from the same settings;
SQLite and PostgreSQL both serialise the appends); a bad file becomes an ``error`` result and the run
goes on. Labeling resumes by itself: an output appears only once its record is committed
(``labeling.outputs``), so an existing output is skipped, never labeled twice; inspection resumes from
its own JSON Lines (``--resume``).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from synthgov.errors import InvalidInput

# the options every batch command shares
Include = Annotated[list[str] | None, typer.Option(metavar="GLOB", help="In folders: only names or paths matching "
                                                   "this glob (repeatable; default: every image extension)")]
Exclude = Annotated[list[str] | None, typer.Option(metavar="GLOB", help="In folders: skip names or paths matching "
                                                   "this glob (repeatable)")]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Worker processes")]

CHUNK = 64  # files inspected per task: one unit of work (transaction), their records looked up together
# what a worker imports before its first task: loaded once in the fork server, so each worker starts as a fork
PRELOAD = ("synthgov.bootstrap", "synthgov.config")  # and the registry's built-in handlers
LABEL_GROUP = 16  # files labeled per task and committed together (group commit: one transaction and fsync)


@dataclass(frozen=True)
class Item:
    path: Path
    relative: Path  # where it sits below the folder it was found in (its name, for a file given alone)


def collect(paths: Iterable[Path], include: list[str], exclude: list[str],
            default_include: Iterable[str]) -> list[Item]:
    """The files ``paths`` name: files as given, folders recursively. In folders, a file is taken when
    its name or path below the folder matches an ``include`` pattern (default: the extensions the
    handlers read) and no ``exclude`` pattern; hidden files and folders are skipped."""
    wanted = _Patterns(include or [f"*{ext}" for ext in default_include])
    unwanted = _Patterns(exclude)
    out: list[Item] = []
    for given in paths:
        if given.is_dir():
            for root, dirs, names in os.walk(given, onerror=_walk_error):
                below = Path(root).relative_to(given)
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not unwanted.match(below / d))
                for name in sorted(names):
                    relative = below / name
                    if name.startswith(".") or unwanted.match(relative) or not wanted.match(relative):
                        continue
                    out.append(Item(Path(root, name), relative))
        else:
            out.append(Item(given, Path(given.name)))
    return out


def _walk_error(exc: OSError) -> None:
    raise InvalidInput(f"cannot read folder {exc.filename}: {exc.strerror}")


class _Patterns:
    """Globs matched against a file's name (case-insensitively) or its path below the folder,
    compiled once into one expression each (a folder of thousands of files meets them thousands of times)."""

    def __init__(self, patterns: list[str]) -> None:
        self.names = re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns)) if patterns else None
        self.paths = re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None

    def match(self, relative: Path) -> bool:
        if self.names is None or self.paths is None:
            return False
        return bool(self.names.match(relative.name.lower()) or self.paths.match(relative.as_posix()))


def done_in(jsonl: Path, key: str) -> set[str]:
    """The ``key`` values of the results already in a JSON Lines file (a torn last line is ignored)."""
    if not jsonl.exists():
        return set()
    seen = set()
    try:
        with jsonl.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    value = json.loads(line).get(key)
                except (ValueError, AttributeError):
                    continue
                if isinstance(value, str):
                    seen.add(value)
    except OSError as exc:
        raise InvalidInput(f"cannot read {jsonl}: {exc.strerror}") from exc
    return seen


# -- worker processes ------------------------------------------------------------------------------

_PLATFORM: Any = None


def _init(data_dir: str | None, database_url: str | None, cwd: str, env: dict[str, str]) -> None:
    """A worker's platform, from the same settings as the command's (opened once per process). A
    worker is forked from a fork server that may have started earlier in a long-lived process: it
    takes the caller's working folder and ``SYNTHGOV_*`` environment now, not the server's."""
    global _PLATFORM
    os.chdir(cwd)
    for name in [n for n in os.environ if n.startswith("SYNTHGOV_") and n not in env]:
        del os.environ[name]
    os.environ.update(env)
    from synthgov.bootstrap import open_platform
    from synthgov.config import load_settings

    _PLATFORM = open_platform(load_settings(data_dir=data_dir, database_url=database_url))
    import atexit

    atexit.register(_PLATFORM.close)


def _run(task: str, chunk: list[dict]) -> list[Any]:
    from importlib import import_module

    return list(getattr(import_module(module_of(task)), task.rpartition(".")[2])(_PLATFORM, chunk))


def module_of(task: str) -> str:
    return task.rpartition(".")[0]


def _context(task: str) -> Any:
    """Never fork a process holding database connections: workers are forked from a fork server, a
    fresh process that has imported PRELOAD and the task's module and holds nothing else (its
    imports are paid once, not once per worker)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - no fork here
        return multiprocessing.get_context("spawn")
    from synthgov.modalities.registry import BUILTIN_MODULES

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *BUILTIN_MODULES, module_of(task)])
    return context


def warm(task: str, jobs: int) -> None:
    """Start the fork server now, when ``jobs`` > 1, so its imports overlap the command's own start."""
    if jobs > 1:
        from multiprocessing import forkserver

        if _context(task).get_start_method() == "forkserver":
            forkserver.ensure_running()


def run(task: str, items: list[dict], *, jobs: int, chunk: int, data_dir: Path | None, database_url: str | None,
        platform: Any = None) -> Iterator[Any]:
    """Results of ``task`` (a dotted name: ``f(platform, items) -> iterable of results``) over
    ``items``, in chunks of ``chunk``, as they finish; ``jobs`` > 1 runs them in worker processes,
    otherwise in this process on ``platform``."""
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    if jobs <= 1 or len(chunks) <= 1:
        global _PLATFORM
        _PLATFORM = platform
        for part in chunks:
            yield from _run(task, part)
        return
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    context = _context(task)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init,
                             initargs=(str(data_dir) if data_dir else None, database_url, os.getcwd(),
                                       {k: v for k, v in os.environ.items() if k.startswith("SYNTHGOV_")})) as pool:
        pending: set[Future] = set()
        queue = iter(chunks)
        try:
            for part in queue:  # keep every worker busy, with a chunk waiting each
                pending.add(pool.submit(_run, task, part))
                if len(pending) >= 2 * jobs:
                    break
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield from future.result()
                for part in queue:
                    pending.add(pool.submit(_run, task, part))
                    if len(pending) >= 2 * jobs:
                        break
        except BaseException:
            for future in pending:
                future.cancel()
            raise


class JsonLines:
    """Results as JSON Lines: to stdout (``-``) or appended to a file. Lines are flushed in groups
    (every ``FLUSH_LINES`` lines or ``FLUSH_SECONDS``, and at the end or on an interruption): a run
    that is killed outright leaves every result but the last group's, which ``--resume`` does again."""

    FLUSH_LINES = 64
    FLUSH_SECONDS = 0.5

    def __init__(self, target: str | None) -> None:
        self.stream = None
        self._unflushed = 0
        self._flushed_at = time.monotonic()
        if target == "-":
            self.stream = sys.stdout
        elif target:
            try:
                torn = False  # an interrupted run may have left half a line: start on a fresh one
                if os.path.isfile(target) and os.path.getsize(target):
                    with open(target, "rb") as existing:
                        existing.seek(-1, os.SEEK_END)
                        torn = existing.read(1) != b"\n"
                self.stream = open(target, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise InvalidInput(f"cannot write JSON Lines to {target}: {exc.strerror}") from exc
            if torn:
                self.stream.write("\n")

    def write_text(self, line: str) -> None:
        """One result already encoded as JSON (no newline in it)."""
        if self.stream is not None:
            self.stream.write(line + "\n")
            self._unflushed += 1
            if self._unflushed >= self.FLUSH_LINES or time.monotonic() - self._flushed_at >= self.FLUSH_SECONDS:
                self.flush()

    def flush(self) -> None:
        if self.stream is not None:
            self.stream.flush()
            self._unflushed, self._flushed_at = 0, time.monotonic()

    def close(self) -> None:
        self.flush()
        if self.stream is not None and self.stream is not sys.stdout:
            self.stream.close()


def encode(result: dict) -> str:
    """A plain result as its JSON line."""
    from synthgov.jsontext import dumps

    return dumps(result, default=str)


def progress(total: int, verb: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from synthgov.cli.common import err_console

    return Progress(TextColumn(verb), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err_console, transient=True, disable=total < 2)


def drive(results: Iterator[Any], total: int, verb: str, sink: JsonLines, as_line: Callable[[Any], str],
          each: Callable[[Any], None] | None = None) -> list[Any]:
    """Consume ``results`` with a progress bar, writing each to ``sink`` as ``as_line`` encodes it
    (and passing it to ``each``)."""
    out = []
    with progress(total, verb) as bar:
        task = bar.add_task(verb, total=total)
        try:
            for result in results:
                if sink.stream is not None:
                    sink.write_text(as_line(result))
                if each is not None:
                    each(result)
                out.append(result)
                bar.advance(task)
        finally:
            sink.close()
    return out
