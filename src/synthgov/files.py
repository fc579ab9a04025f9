"""Writing files so that a reader sees the old content or the new, never half of either."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from synthgov.errors import InvalidInput


def folder_of(path: Path) -> Path:
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidInput(f"output folder {directory} does not exist")
    return directory


@contextmanager
def staged(path: Path, *, mode: int | None = None, text: bool = False,
           publish: bool = False) -> Iterator[tuple[IO[Any], Path]]:
    """A temporary file beside ``path``, fsynced when the block ends and, with ``publish``, moved
    onto ``path``; otherwise the caller moves it (``os.replace``). On an error it is removed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder_of(path))
    if mode is not None:
        os.fchmod(fd, mode)
    try:
        fh: IO[Any] = os.fdopen(fd, "w", encoding="utf-8") if text else os.fdopen(fd, "wb")
        with fh:
            yield fh, Path(tmp)
            fh.flush()
            os.fsync(fh.fileno())
        if publish:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, content: bytes, *, mode: int) -> None:
    """Replace ``path`` with ``content`` in one step (the file has ``mode`` from its creation)."""
    with staged(path, mode=mode, publish=True) as (fh, _):
        fh.write(content)
