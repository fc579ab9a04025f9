"""What every CLI command shares: the platform from global options, output helpers.

Light on import (``synthgov --help`` must stay quick): the consoles, settings and the platform are
built when a command first asks for them.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from synthgov.bootstrap import Platform
    from synthgov.config import Settings
    from synthgov.permissions import Actor


class State:
    data_dir: Path | None = None
    database_url: str | None = None


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)


def __getattr__(name: str) -> Any:  # out_console / err_console, made on first use
    if name == "out_console":
        return _console(False)
    if name == "err_console":
        return _console(True)
    raise AttributeError(name)


def settings() -> Settings:
    from synthgov.config import load_settings

    return load_settings(data_dir=State.data_dir, database_url=State.database_url)


@contextmanager
def platform() -> Iterator[Platform]:
    from synthgov.bootstrap import open_platform

    plat = open_platform(settings())
    try:
        yield plat
    finally:
        plat.close()


def operator() -> Actor:
    from synthgov.permissions import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry in some containers
        name = "cli"
    return Actor.operator(name)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def exit_with(code: int) -> None:
    raise typer.Exit(code)
