"""``synthgov label image``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Apply GB 45438 labels to generated content.", no_args_is_help=True)


@app.command("image")
def label_image(
    source: Annotated[Path, typer.Argument(help="Generated image: JPEG, PNG, WebP, TIFF or GIF")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the labeled image")],
    user: Annotated[str | None, typer.Option(help="Your reference for the end user it was made for")] = None,
    visible: Annotated[bool, typer.Option("--visible/--no-visible", help="Draw the visible label")] = True,
    watermark: Annotated[
        bool | None, typer.Option("--watermark/--no-watermark", help="Embed the invisible watermark (default: setting)")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace OUTPUT if it exists")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the generation record as JSON")] = False,
) -> None:
    """Label an image: keyed invisible watermark (unless --no-watermark), visible 「AI生成」 label
    (unless --no-visible), XMP TC260:AIGC metadata label signed with the provider's SM2 key, and a
    generation record. With --no-visible --no-watermark the pixels are untouched."""
    from synthgov.cli.common import operator, out_console, platform, print_json
    from synthgov.labeling.service import label_file
    from synthgov.records.schemas import RecordOut

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
        out_console.print(f"  watermark: [{colour}]{strength['expected']}[/] (z {strength['margin']} on a "
                          f"{strength['check']}, PSNR {strength['psnr']} dB): {strength['note']}")
