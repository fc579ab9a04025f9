"""The ``synthgov`` command. Each domain contributes its commands; errors become one line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

import synthgov
from synthgov.cli.common import State, err_console, out_console, platform, print_json, settings
from synthgov.errors import SynthgovError

app = typer.Typer(
    name="synthgov",
    help="Label generated content to GB 45438, trace it back, and keep the records regulators ask for.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.callback()
def _global(
    data_dir: Annotated[
        Path | None, typer.Option(envvar="SYNTHGOV_DATA_DIR", help="Data folder (config, keys, SQLite)")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(envvar="SYNTHGOV_DATABASE_URL", help="SQLAlchemy URL (default: SQLite)")
    ] = None,
) -> None:
    State.data_dir = data_dir
    State.database_url = database_url


@app.command()
def version() -> None:
    """Print the version."""
    print(synthgov.__version__)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision (Alembic)."""
    from synthgov.storage import migrate

    with platform() as plat:
        migrate.upgrade(plat.engine)
        out_console.print(f"database at revision {migrate.current(plat.engine)} ({plat.engine.url.render_as_string()})")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision."""
    from synthgov.storage import migrate

    with platform() as plat:
        print(migrate.current(plat.engine) or "empty (run `synthgov db upgrade`)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from synthgov.api import create_app
    from synthgov.bootstrap import open_platform
    from synthgov.storage import migrate

    cfg = settings()
    plat = open_platform(cfg)
    if migrate.current(plat.engine) != migrate.head():
        raise SynthgovError("database schema is not current; run `synthgov db upgrade` first")
    plat.provider  # noqa: B018 - fail now, not on the first request, when no provider is configured
    if cfg.demo:
        err_console.print("[bold red]DEMO provider profile[/]: output carries a demo ContentProducer code.")
    uvicorn.run(create_app(plat), host=host or cfg.host, port=port or cfg.port, log_level="info")


@app.command()
def features(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Which optional backends and external tools are available, and why not."""
    from synthgov.features import report

    rows = report()
    if as_json:
        print_json(rows)
        return
    for row in rows:
        mark = "[green]yes[/]" if row["available"] else "[red]no[/]"
        out_console.print(f"{row['name']:<28} {mark}  {row['detail']}")


def _mount() -> None:
    from synthgov.audit.cli import app as audit_app
    from synthgov.identity.cli import app as apikey_app
    from synthgov.labeling.cli import app as label_app
    from synthgov.provider.cli import init
    from synthgov.tracing.cli import inspect, records_app

    app.command("init")(init)
    app.command("inspect")(inspect)
    app.add_typer(label_app, name="label")
    app.add_typer(records_app, name="records")
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")


def main(argv: list[str] | None = None) -> None:
    _mount()
    try:
        app(args=argv, prog_name="synthgov", standalone_mode=True)
    except SynthgovError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # database down, disk full: still one line, never a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | OSError):
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            err_console.print(f"[red]error:[/] {type(exc).__name__}: {msg}", highlight=False, soft_wrap=True)
            sys.exit(2)
        raise


__all__ = ["app", "main"]
