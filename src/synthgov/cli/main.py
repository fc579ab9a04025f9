"""The ``synthgov`` command. Each domain's manifest contributes its commands; errors become one line.

Domain commands load lazily: ``synthgov --help`` lists them from the manifests' short help without
importing any domain's code, and a command imports what it needs only when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from synthgov.cli.common import State, print_json
from synthgov.domains import CliMount, resolve
from synthgov.errors import SynthgovError


class LazyGroup(TyperGroup):
    """A group whose domain commands are imported when they are run (or their own help is asked)."""

    mounts: dict[str, CliMount]  # set by main() before the group runs

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.mounts if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in self.mounts:
            return super().get_command(ctx, cmd_name)
        mount = self.mounts[cmd_name]  # listing: the manifest's short help stands in
        return TyperCommand(cmd_name, help=mount.help, short_help=mount.help)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in self.mounts and args[0] not in self.commands:
            self.add_command(_load(self.mounts[args[0]]), args[0])
        return super().resolve_command(ctx, args)


def _load(mount: CliMount) -> Any:
    target = resolve(mount.target)
    command: Any
    if mount.group:
        target.rich_markup_mode = None  # plain help: rich's help renderer alone costs ~90 ms to import
        command = typer.main.get_group(target)
    else:
        holder = typer.Typer(rich_markup_mode=None, add_completion=False)
        holder.command(mount.name)(target)
        command = typer.main.get_command(holder)
    command.name = mount.name
    return command


app = typer.Typer(
    name="synthgov",
    cls=LazyGroup,
    help="Label generated content to GB 45438, trace it back, and keep the records regulators ask for.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


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


def _absent_values_skip_coercion() -> None:
    """Typer builds each parameter's pydantic coercer before it coerces, even for an absent value
    (None), which coerces to None anyway; building it imports pydantic, which alone doubles the time
    of ``synthgov X --help``. Absent optional values skip straight to the rest of the processing."""
    from typer import core

    param_class = getattr(core, "_TyperParameter", None)
    original = getattr(param_class, "process_value", None)
    if param_class is None or original is None or getattr(original, "skips_absent", False):
        return

    def process_value(self: Any, ctx: Any, value: Any) -> Any:
        if value is not None or self.required or self.multiple or self.nargs == -1:
            return original(self, ctx, value)
        return self.callback(ctx, self, value) if self.callback is not None else value

    process_value.skips_absent = True  # type: ignore[attr-defined]
    param_class.process_value = process_value


@app.command()
def version() -> None:
    """Print the version."""
    import synthgov

    print(synthgov.__version__)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision (Alembic)."""
    from synthgov.cli.common import out_console, platform
    from synthgov.storage import migrate

    with platform(schema_current=False) as plat:
        migrate.upgrade(plat.engine)
        out_console.print(f"database at revision {migrate.current(plat.engine)} ({plat.engine.url.render_as_string()})")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision."""
    from synthgov.cli.common import platform
    from synthgov.storage import migrate

    with platform(schema_current=False) as plat:
        print(migrate.current(plat.engine) or "empty (run `synthgov db upgrade`)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Server processes (default: the "
                                                "api_workers setting, 1); about one per core")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import os

    import uvicorn

    from synthgov.api import create_app
    from synthgov.bootstrap import open_platform
    from synthgov.cli.common import err_console, settings
    from synthgov.storage import migrate

    cfg = settings()
    plat = open_platform(cfg)
    if migrate.current(plat.engine) != migrate.head():
        raise SynthgovError("database schema is not current; run `synthgov db upgrade` first")
    plat.provider  # noqa: B018 - fail now, not on the first request, when no provider is configured
    from synthgov.labeling.service import recover_outputs

    recover_outputs(plat)
    if cfg.demo:
        err_console.print("[bold red]DEMO provider profile[/]: output carries a demo ContentProducer code.")
    count = workers or cfg.api_workers
    bind_host, bind_port = host or cfg.host, port or cfg.port
    if count == 1:
        try:
            uvicorn.run(create_app(plat), host=bind_host, port=bind_port, log_level="info")
        finally:
            plat.close()  # a last checkpoint when the log grew
        return
    plat.close()
    # each worker opens its own platform from the same settings: pass what the command line chose
    os.environ["SYNTHGOV_DATA_DIR"] = str(cfg.data_dir)
    if cfg.database_url:
        os.environ["SYNTHGOV_DATABASE_URL"] = cfg.database_url
    uvicorn.run("synthgov.api.app:served_app", host=bind_host, port=bind_port, log_level="info", factory=True,
                workers=count)


@app.command()
def features(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Which optional backends and external tools are available, and why not."""
    from synthgov.cli.common import out_console
    from synthgov.features import report

    rows = report()
    if as_json:
        print_json(rows)
        return
    for row in rows:
        mark = "[green]yes[/]" if row["available"] else "[red]no[/]"
        out_console.print(f"{row['name']:<28} {mark}  {row['detail']}")


def _mount(command: LazyGroup, argv: list[str]) -> None:
    """The domains' commands. Plugins (entry points) are looked up unless the command asked for is a
    built-in one (importlib.metadata costs a sixth of a quick command); running a command opens the
    platform, which loads and validates every domain, plugins included."""
    from synthgov.domains import load_domains

    asked = next((a for a in argv if not a.startswith("-")), None)
    builtin = load_domains(plugins=False)
    names = {mount.name for _, mount in builtin.cli_mounts()} | set(command.commands)
    domains = builtin if asked in names else load_domains()
    command.mounts = {mount.name: mount for _, mount in domains.cli_mounts()}


def _error(message: str) -> None:
    from synthgov.cli.common import err_console

    err_console.print(f"[red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    try:
        command = typer.main.get_command(app)
        assert isinstance(command, LazyGroup)
        _mount(command, sys.argv[1:] if argv is None else argv)
        _absent_values_skip_coercion()
        command.main(args=argv, prog_name="synthgov", standalone_mode=True)
    except SynthgovError as exc:
        _error(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # database down, disk full: still one line, never a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | OSError):
            from synthgov.cli.common import State
            from synthgov.storage.engine import describe_database_error

            said = describe_database_error(getattr(exc, "orig", None) or exc, State.data_dir or Path("the data folder"))
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _error(said or f"{type(exc).__name__}: {msg}")
        raise
    finally:
        import gc

        # what is alive now lives until exit: without this, the interpreter's last collections walk
        # every object the imports made (about 0.25 s of each command's wall time)
        gc.freeze()


__all__ = ["app", "main"]
