"""Bounded reading of inputs, shared by every domain that takes content (sizes checked first), and
the check of the short texts a caller gives that are kept in the database."""

from __future__ import annotations

from pathlib import Path

from synthgov.errors import CorruptMedia, InvalidInput, TooLarge


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise TooLarge(f"input is {size} bytes, over the {limit}-byte limit")


def check_content(data: bytes, limit: int) -> None:
    check_size(len(data), limit)
    if not data:
        raise CorruptMedia("file is empty (0 bytes)")


def read_input(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, refused before reading when the file is over ``limit``."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    check_size(size, limit)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc


def check_text(name: str, value: str | None, limit: int, *, lines: bool = False) -> None:
    """A caller's text that is kept (None: not given): 1 to ``limit`` characters and no control
    character, tabs and newlines allowed only with ``lines`` (PostgreSQL refuses a NUL, and its
    column a longer value, with a database error; a newline in a reference would let it pose as
    another line of a log or an export). Printable text of any script is fine."""
    if value is None:
        return
    if not 0 < len(value) <= limit:
        raise InvalidInput(f"{name} must be 1 to {limit} characters")
    allowed = "\t\n\r" if lines else ""
    if any((ord(c) < 32 or 127 <= ord(c) < 160) and c not in allowed for c in value):
        raise InvalidInput(f"{name} must not hold control characters")


def lookable(key: str | None, limit: int) -> bool:
    """Whether a key a caller gives (an id, a ProduceID read from a file) can name a stored row at
    all: 1 to ``limit`` characters and no NUL (PostgreSQL refuses a NUL in a query parameter with a
    database error; no stored key holds one). A key that cannot is simply not found."""
    return key is not None and 0 < len(key) <= limit and "\x00" not in key
