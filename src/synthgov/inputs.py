"""Bounded reading of inputs, shared by every domain that takes content (sizes checked first)."""

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
