"""``synthgov inspect`` and ``synthgov records show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from synthgov.cli.common import err_console, exit_with, operator, out_console, platform, print_json
from synthgov.errors import SynthgovError
from synthgov.labeling.schemas import RecordOut
from synthgov.labeling.service import read_input
from synthgov.tracing.service import Inspection, Status, get_record, inspect_or_error

records_app = typer.Typer(help="Generation records.", no_args_is_help=True)
STYLE = {Status.LABELED: "green", Status.NONCONFORMANT: "yellow", Status.UNLABELED: "dim", Status.ERROR: "red"}
VERDICT_STYLE = {"valid": "green", "integrity-only": "yellow", "tampered": "bold red", "unsigned": "dim"}


def inspect(
    files: Annotated[list[Path], typer.Argument(help="Files to inspect", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    deep: Annotated[bool, typer.Option(help="Look for watermark and fingerprint even when metadata traces")] = False,
) -> None:
    """Read every metadata label, check it against GB 45438 Annex E, verify its SM2 signature and
    trace its ProduceID to the generation record. Exit 1 if any file could not be read."""
    results: list[Inspection] = []
    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        progress = Progress(
            TextColumn("inspecting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err_console, transient=True, disable=len(files) < 2,
        )
        with progress:
            for path in progress.track(files):
                try:
                    data = read_input(ctx, path)
                except SynthgovError as exc:
                    results.append(Inspection(name=str(path), status=Status.ERROR, error=str(exc)))
                    continue
                results.append(inspect_or_error(ctx, data=data, name=str(path), deep=deep))
    if as_json:
        print_json({"files": [r.to_dict() for r in results]})
    else:
        for result in results:
            _print(result)
    if any(r.status is Status.ERROR for r in results):
        exit_with(1)


def _print(r: Inspection) -> None:
    style = STYLE[r.status]
    if r.status is Status.ERROR:
        out_console.print(f"[bold]{r.name}[/]: [{style}]error[/] {r.error}")
        return
    out_console.print(f"[bold]{r.name}[/]: [{style}]{r.status.value}[/] ({r.format} {r.width}x{r.height})")
    for problem in r.problems:
        out_console.print(f"  [yellow]! {problem}[/]")
    for f in r.labels:
        fields = f.fields
        out_console.print(f"  label in {f.location}: Label={fields.get('Label')!r} "
                          f"producer={fields.get('ContentProducer')} ProduceID={fields.get('ProduceID')}")
        for problem in f.problems:
            out_console.print(f"    [yellow]! {problem}[/]")
        for note in f.notes:
            out_console.print(f"    [dim]note: {note}[/]")
        verdict = f.signature["verdict"]
        out_console.print(f"    signature: [{VERDICT_STYLE.get(verdict, 'white')}]{verdict}[/] {f.signature['detail']}")
        if f.record:
            match = "content unchanged since labeling" if f.content_matches_record else "content changed since labeling"
            out_console.print(
                f"    traced: record {f.record['id']} made {f.record['created_at']} for user "
                f"{f.record['user_ref'] or '-'} by {f.record['service']}/{f.record['model']}; {match}"
            )
        else:
            out_console.print("    traced: [dim]no generation record here for this ProduceID[/]")
    mark = r.watermark
    if mark and mark.get("present"):
        rec = mark.get("record")
        traced = (f"record {rec['id']} ProduceID {rec['produce_id']} made {rec['created_at']} for user "
                  f"{rec['user_ref'] or '-'}") if rec else "no record here for this payload"
        out_console.print(f"  [cyan]watermark[/] payload {mark['payload']} (confidence {mark['confidence']}): {traced}")
    elif mark is not None:
        out_console.print(f"  watermark: [dim]{'none found' if mark.get('checked') else mark.get('detail')}[/]")
    for m in r.fingerprint_matches:
        rec = m["record"]
        out_console.print(
            f"  [cyan]fingerprint match[/] (PDQ distance {m['distance']}, not a label): record {rec['id']} "
            f"ProduceID {rec['produce_id']} made {rec['created_at']} for user {rec['user_ref'] or '-'}"
        )
    for note in r.notes:
        out_console.print(f"  [dim]note: {note}[/]")


@records_app.command("show")
def show_record(
    produce_id: Annotated[str, typer.Argument(help="The label's ProduceID")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the generation record behind a ProduceID."""
    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        record = RecordOut.model_validate(get_record(ctx, produce_id=produce_id)).model_dump(mode="json")
    if as_json:
        print_json(record)
    else:
        for key, value in record.items():
            out_console.print(f"[bold]{key:>15}[/] {value}")
