"""``synthgov records``."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Generation records.", no_args_is_help=True)


@app.command("show")
def show_record(
    produce_id: Annotated[str, typer.Argument(help="The label's ProduceID")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the generation record behind a ProduceID."""
    from synthgov.cli.common import operator, out_console, platform, print_json
    from synthgov.records import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        record = service.get(ctx, produce_id=produce_id).model_dump(mode="json")
    if as_json:
        print_json(record)
    else:
        log = record.pop("log") or {}
        for key, value in record.items():
            out_console.print(f"[bold]{key:>15}[/] {value}")
        style = "green" if log.get("matches") else "red bold"
        out_console.print(f"[bold]{'log':>15}[/] [{style}]{log.get('says', 'not checked')}[/]")
