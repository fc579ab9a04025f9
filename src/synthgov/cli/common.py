"""What every CLI command shares: the platform from global options, output helpers."""

from __future__ import annotations

import getpass
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from synthgov.bootstrap import Platform, open_platform
from synthgov.config import Settings, load_settings
from synthgov.permissions import Actor

err_console = Console(stderr=True, soft_wrap=True)
out_console = Console(soft_wrap=True)


class State:
    data_dir: Path | None = None
    database_url: str | None = None


def settings() -> Settings:
    return load_settings(data_dir=State.data_dir, database_url=State.database_url)


@contextmanager
def platform() -> Any:
    plat: Platform = open_platform(settings())
    try:
        yield plat
    finally:
        plat.close()


def operator() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry in some containers
        name = "cli"
    return Actor.operator(name)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def exit_with(code: int) -> None:
    raise typer.Exit(code)
