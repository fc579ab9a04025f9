"""``synthgov label image``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthgov.cli.batch import Exclude, Include, Jobs

TASK = "synthgov.labeling.service.label_files"  # a batch worker's task (synthgov.cli.batch.run)

app = typer.Typer(help="Apply GB 45438 labels to generated content.", no_args_is_help=True)


@app.command("image")
def label_image(
    sources: Annotated[list[Path], typer.Argument(metavar="SOURCE...", show_default=False, help="Generated images "
                                                  "(JPEG, PNG, WebP, TIFF, GIF, AVIF, HEIF) or folders of them")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The labeled image; with several sources or a "
                                         "folder, the folder to write them to (made if missing, the sources' "
                                         "folder layout kept)")],
    user: Annotated[str | None, typer.Option(help="Your reference for the end user it was made for")] = None,
    visible: Annotated[bool, typer.Option("--visible/--no-visible", help="Draw the visible label")] = True,
    watermark: Annotated[
        bool | None, typer.Option("--watermark/--no-watermark", help="Embed the invisible watermark (default: setting)")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace outputs that exist (otherwise a batch skips them)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the generation record(s) as JSON")] = False,
    jsonl: Annotated[str | None, typer.Option("--jsonl", metavar="FILE", help="Batches: each result as a JSON line "
                                              "as it is ready, to FILE (appended) or - for standard output")] = None,
    include: Include = None,
    exclude: Exclude = None,
    jobs: Jobs = 1,
) -> None:
    """Label an image: keyed invisible watermark (unless --no-watermark), visible 「AI生成」 label
    (unless --no-visible), XMP TC260:AIGC metadata label signed with the provider's SM2 key, and a
    generation record. With --no-visible --no-watermark the pixels are untouched.

    Several sources or folders label into the folder -o names, in worker processes (--jobs), with a
    progress bar; a bad file is reported and the rest go on. An interrupted batch is resumed by running
    it again: outputs that exist are skipped (each appears only once its record is committed), so no
    file gets two records."""
    if len(sources) == 1 and not sources[0].is_dir() and not output.is_dir():
        _label_one(sources[0], output, user, visible, watermark, overwrite, as_json)
        return
    _label_many(sources, output, user=user, visible=visible, watermark=watermark, overwrite=overwrite,
                as_json=as_json, jsonl=jsonl, include=include or [], exclude=exclude or [], jobs=jobs)


def _label_one(source: Path, output: Path, user: str | None, visible: bool, watermark: bool | None, overwrite: bool,
               as_json: bool) -> None:
    from synthgov.cli.common import operator, out_console, platform, print_json
    from synthgov.labeling.service import label_file
    from synthgov.records.schemas import RecordOut
    from synthgov.watermarking.scheme import margin_text

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        outcome = label_file(ctx, source=source, destination=output, user=user, visible=visible,
                             watermark=watermark, overwrite=overwrite)
    record = RecordOut.model_validate(outcome.record).model_dump(mode="json")
    if outcome.pending:
        from synthgov.cli.common import exit_with

        out_console.print(f"[red]record {record['id']} committed but {output} could not be written yet[/]: the "
                          f"output waits at {outcome.pending}; the next synthgov command moves it into place")
        exit_with(1)
    if as_json:
        print_json({"output": str(output), "record": record, "geometry": outcome.geometry})
        return
    demo = " [bold red](DEMO provider profile)[/]" if record["demo"] else ""
    out_console.print(
        f"labeled [bold]{source}[/] -> [bold]{output}[/]{demo}\n"
        f"  ProduceID {record['produce_id']}  record {record['id']}\n"
        f"  labels: {', '.join(record['labels_applied'])}"
        + (f"  (ink {outcome.geometry['ink_px']} px = {outcome.geometry['ink_ratio']:.1%} of short side)"
           if outcome.geometry else "")
    )
    if strength := record["watermark_strength"]:
        colour = {"robust": "green", "limited": "yellow"}.get(strength["expected"], "red")
        out_console.print(f"  watermark: [{colour}]{strength['expected']}[/] ({margin_text(strength)}, "
                          f"PSNR {strength['psnr']} dB): {strength['note']}")


def _label_many(sources: list[Path], folder: Path, *, user: str | None, visible: bool, watermark: bool | None,
                overwrite: bool, as_json: bool, jsonl: str | None, include: list[str], exclude: list[str],
                jobs: int) -> None:
    from synthgov.cli import batch

    batch.warm(TASK, jobs)
    from synthgov.cli.common import err_console, exit_with, operator, out_console, platform, print_json
    from synthgov.errors import InvalidInput

    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} is a file; with several sources or a folder, -o names the output folder")
    with platform() as plat:
        inside = folder.resolve()
        items = [item for item in batch.collect(sources, include, exclude, plat.registry.extensions())
                 if not item.path.resolve().is_relative_to(inside)]  # an output folder inside a source folder
        targets: dict[Path, Path] = {}
        for item in items:
            destination = folder / item.relative
            if destination in targets:
                raise InvalidInput(f"{item.path} and {targets[destination]} would both be written to {destination}")
            if destination.resolve() == item.path.resolve():
                raise InvalidInput(f"{item.path} would be overwritten by its own output; choose another -o folder")
            targets[destination] = item.path
        for parent in sorted({d.parent for d in targets}):
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(f"cannot make the output folder {parent}: {exc.strerror}") from exc
        actor = operator().id
        todo = [{"source": str(source), "destination": str(destination), "user": user, "visible": visible,
                 "watermark": watermark, "overwrite": overwrite, "actor": actor}
                for destination, source in targets.items()]
        results = batch.drive(
            batch.run(TASK, todo, jobs=jobs, chunk=batch.LABEL_GROUP,
                      data_dir=plat.settings.data_dir, database_url=plat.settings.database_url, platform=plat),
            len(todo), "labeling", batch.JsonLines(jsonl), batch.encode)
    counts = {status: sum(1 for r in results if r["status"] == status) for status in ("labeled", "skipped",
                                                                                       "pending", "error")}
    if as_json:
        print_json({"output": str(folder), "files": results, "counts": counts})
    elif jsonl != "-":
        for r in results:
            if r["status"] == "labeled":
                out_console.print(f"labeled {r['input']} -> {r['output']}  record {r['record']['id']}")
            elif r["status"] == "skipped":
                out_console.print(f"[dim]skipped {r['input']}: {r['detail']}[/]")
            elif r["status"] == "pending":
                out_console.print(f"[red]{r['input']}: record {r['record']['id']} committed, output waits at "
                                  f"{r['pending']}[/]")
            else:
                out_console.print(f"[red]error[/] {r['input']}: {r['error']}")
    err_console.print(", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no files")
    if counts["error"] or counts["pending"]:
        exit_with(1)
