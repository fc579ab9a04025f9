"""What every CLI command shares: the platform from global options, output helpers.

Light on import (``synthgov --help`` must stay quick): the consoles, settings and the platform are
built when a command first asks for them.
"""

from __future__ import annotations

import getpass
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
def platform(*, schema_current: bool = True) -> Iterator[Platform]:
    """The platform of the data folder, checked first: an uninitialised or read-only folder gets a
    one-line error and nothing is created; a schema behind the code asks for `synthgov db upgrade`."""
    from synthgov.bootstrap import open_platform
    from synthgov.errors import ConfigurationError
    from synthgov.storage import migrate
    from synthgov.storage.engine import check_ready

    cfg = settings()
    check_ready(cfg.resolved_database_url, cfg.data_dir)
    plat = open_platform(cfg)
    try:
        if schema_current:  # `synthgov db …` works on any revision
            if migrate.current(plat.engine) != migrate.head():
                raise ConfigurationError("the database schema is older than this synthgov: run `synthgov db upgrade`")
            from synthgov.labeling.service import recover_outputs

            recovered = recover_outputs(plat)  # what a crashed command left: committed outputs into place
            for path in recovered.published:
                _console(True).print(f"recovered: {path} (its record was committed before a crash)")
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
    from synthgov.jsontext import dumps

    sys.stdout.write(dumps(obj, indent=2, default=str) + "\n")


def exit_with(code: int) -> None:
    raise typer.Exit(code)
