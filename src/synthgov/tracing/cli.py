"""``synthgov inspect`` and ``synthgov records show``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from synthgov.records.schemas import RecordOut, RecordRef
    from synthgov.tracing.schemas import Inspection

STYLE = {"labeled": "green", "nonconformant": "yellow", "unlabeled": "dim", "error": "red"}
VERDICT_STYLE = {"valid": "green", "integrity-only": "yellow", "tampered": "bold red", "unsigned": "dim"}


def inspect(
    files: Annotated[list[Path], typer.Argument(help="Files to inspect", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    deep: Annotated[bool, typer.Option(help="Look for watermark and fingerprint even when metadata traces")] = False,
) -> None:
    """Read every metadata label, check it against GB 45438 Annex E, verify its SM2 signature and
    trace its ProduceID to the generation record. Exit 1 if any file could not be read."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from synthgov.cli.common import err_console, exit_with, operator, platform, print_json
    from synthgov.errors import SynthgovError
    from synthgov.inputs import read_input
    from synthgov.tracing.policy import TracingPolicy
    from synthgov.tracing.schemas import Inspection, Status
    from synthgov.tracing.service import inspect_or_error

    results: list[Inspection] = []
    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        progress = Progress(
            TextColumn("inspecting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err_console, transient=True, disable=len(files) < 2,
        )
        with progress:
            for path in progress.track(files):
                try:
                    data = read_input(path, ctx.policy(TracingPolicy).max_input_bytes)
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


def _who(rec: RecordOut | RecordRef) -> str:
    """How a record reads in one line; a reference (no record:read) names no user."""
    from synthgov.records.schemas import RecordOut

    if isinstance(rec, RecordOut):
        strength = rec.watermark_strength
        mark = (f"; its mark was {strength['expected']} (z {strength['margin']} on a {strength['check']})"
                if strength else "")
        log = rec.log or {}
        said = log.get("says", "")
        checked = (f"; [red bold]{said}[/]" if not log.get("matches") else f"; {said}") if said else ""
        return (f"record {rec.id} ProduceID {rec.produce_id} made {rec.created_at.isoformat()} for user "
                f"{rec.user_ref or '-'} by {rec.service}/{rec.model}{mark}{checked}")
    return f"record {rec.id} ProduceID {rec.produce_id} made {rec.created_at.isoformat()} (details need record:read)"


def _print(r: Inspection) -> None:
    from synthgov.cli.common import out_console

    style = STYLE[r.status]
    if r.status == "error":
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
        verdict = f.signature.verdict.value
        out_console.print(f"    signature: [{VERDICT_STYLE.get(verdict, 'white')}]{verdict}[/] {f.signature.detail}")
        if f.record:
            match = "content unchanged since labeling" if f.content_matches_record else "content changed since labeling"
            out_console.print(f"    traced: {_who(f.record)}; {match}")
        else:
            out_console.print("    traced: [dim]no generation record here for this ProduceID[/]")
    mark = r.watermark
    if mark and mark.present:
        traced = _who(mark.record) if mark.record else "no record here for this payload"
        out_console.print(f"  [cyan]watermark[/] payload {mark.payload} (confidence {mark.confidence}): {traced}")
    elif mark is not None:
        out_console.print(f"  watermark: [dim]{'none found' if mark.checked else mark.detail}[/]")
    for m in r.fingerprint_matches:
        source = "; [yellow]this very file is that record's input (the source of an edit)[/]" if m.also_input else ""
        out_console.print(f"  [cyan]fingerprint match[/] (PDQ distance {m.distance}, not a label): a near copy of "
                          f"the output of {_who(m.record)}{source}")
    for note in r.notes:
        out_console.print(f"  [dim]note: {note}[/]")
