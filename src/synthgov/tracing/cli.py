"""``synthgov inspect`` and ``synthgov records show``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from synthgov.cli.batch import Exclude, Include, Jobs, encode

if TYPE_CHECKING:
    from synthgov.records.schemas import RecordOut, RecordRef
    from synthgov.tracing.schemas import EncodedInspection, Inspection

TASK = "synthgov.tracing.service.inspect_files"  # results as objects, for the text report
ENCODED_TASK = "synthgov.tracing.service.inspect_files_encoded"  # as JSON text encoded by the workers
STYLE = {"labeled": "green", "nonconformant": "yellow", "unlabeled": "dim", "error": "red"}
VERDICT_STYLE = {"valid": "green", "integrity-only": "yellow", "tampered": "bold red", "unsigned": "dim"}


def inspect(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", show_default=False,
                                                help="Files and folders (searched recursively) to inspect")],
    as_json: Annotated[bool, typer.Option("--json", help="All results as one JSON document at the end")] = False,
    jsonl: Annotated[str | None, typer.Option("--jsonl", metavar="FILE", help="Each result as a JSON line as it "
                                              "is ready: to FILE (appended), or - for standard output")] = None,
    deep: Annotated[bool, typer.Option(help="Look for watermark and fingerprint even when metadata traces")] = False,
    metadata_only: Annotated[bool, typer.Option("--metadata-only", help="Read the metadata labels only: no "
                                                "watermark or fingerprint search (as a generic reader)")] = False,
    include: Include = None,
    exclude: Exclude = None,
    jobs: Jobs = 1,
    resume: Annotated[Path | None, typer.Option(help="Skip the files already in this JSON Lines file (an "
                                                "interrupted --jsonl run) and append the rest to it")] = None,
) -> None:
    """Read every metadata label, check it against GB 45438 Annex E, verify its SM2 signature and
    trace its ProduceID to the generation record; when metadata does not trace, search the watermark
    and the fingerprint. Folders are searched recursively; a file that cannot be read is reported and
    the rest go on. Exit 1 if any file could not be read."""
    from synthgov.cli import batch

    task = ENCODED_TASK if as_json or jsonl is not None or resume is not None else TASK
    batch.warm(task, jobs)
    from synthgov.cli.common import exit_with, operator, platform, print_json
    from synthgov.tracing.schemas import Status

    with platform() as plat:
        items = batch.collect(paths, include or [], exclude or [], plat.registry.extensions())
        done = batch.done_in(resume, "name") if resume else set()
        actor = operator().id
        todo = [{"path": str(i.path), "actor": actor, "deep": deep, "search": not metadata_only}
                for i in items if str(i.path) not in done]
        sink = batch.JsonLines(str(resume) if resume else jsonl)
        results = batch.drive(
            batch.run(task, todo, jobs=jobs, chunk=batch.CHUNK,
                      data_dir=plat.settings.data_dir, database_url=plat.settings.database_url,
                      platform=plat),
            len(todo), "inspecting", sink, _line)
    if as_json:
        print_json({"files": [r.to_dict() for r in results]})
    elif jsonl is None and resume is None:
        for result in results:
            _print(result)
    else:  # the results are in the JSON Lines: a summary here
        from collections import Counter

        from synthgov.cli.common import err_console

        counts = Counter(r.status.value for r in results)
        already = f"; {len(done)} were already in {resume}" if resume and done else ""
        said = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        err_console.print(f"{len(results)} inspected" + (f": {said}" if said else "") + already)
    if any(r.status is Status.ERROR for r in results):
        exit_with(1)


def _line(result: Inspection | EncodedInspection) -> str:
    from synthgov.tracing.schemas import EncodedInspection

    if isinstance(result, EncodedInspection):
        return result.text
    return encode(result.to_dict())


def _who(rec: RecordOut | RecordRef) -> str:
    """How a record reads in one line; a reference (no record:read) names no user."""
    from synthgov.records.schemas import RecordOut
    from synthgov.watermarking.scheme import margin_text

    if isinstance(rec, RecordOut):
        strength = rec.watermark_strength
        mark = f"; its mark was {strength['expected']} ({margin_text(strength)})" if strength else ""
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
