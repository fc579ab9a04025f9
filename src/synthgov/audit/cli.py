"""``synthgov audit``: verify, prove, export, tree heads, retention and legal holds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from synthgov.cli import common
from synthgov.cli.common import exit_with, operator, platform, print_json
from synthgov.errors import InvalidInput

app = typer.Typer(help="The tamper-evident audit log (RFC 9162 Merkle tree).", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: entries that retention must not purge.", no_args_is_help=True)
app.add_typer(hold_app, name="hold")


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"not an ISO date or time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("verify")
def verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Re-hash every entry, rebuild the tree and check every kept signed tree head. Exit 1 on failure."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        total = service._state(ctx)[0]
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        progress = Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=common.err_console, transient=True, disable=total < 10_000)
        with progress:
            task = progress.add_task("verify", total=total)
            result = service.verify_log(ctx, progress=lambda n: progress.advance(task, n))
    if as_json:
        print_json({"ok": result.ok, "entries": result.entries, "purged": result.purged,
                    "tree_heads_checked": result.tree_heads_checked, "root": result.root, "problems": result.problems})
    elif result.ok:
        common.out_console.print(f"[green]ok[/]: {result.entries} entries ({result.purged} purged, hash only), "
                          f"{result.tree_heads_checked} signed tree heads consistent; root {result.root}")
    else:
        for problem in result.problems:
            common.out_console.print(f"[red]FAILED[/]: {problem}")
    if not result.ok:
        exit_with(1)


@app.command("tree-head")
def tree_head(
    size: Annotated[int | None, typer.Option(help="A kept head of this size")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the head of the log now (later heads prove consistency with it)")]
    = False,
) -> None:
    """The signed tree head (JSON)."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        head = service.keep_tree_head(ctx) if keep and size is None else service.tree_head(ctx, size=size)
        print_json(head.to_dict())


@app.command("prove")
def prove(
    entry: Annotated[int, typer.Option(help="Entry index (0-based)")],
    tree_size: Annotated[int | None, typer.Option(help="Prove against a kept head of this size")] = None,
) -> None:
    """An inclusion proof for one entry, with the signed tree head it leads to (JSON)."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        print_json(service.prove_inclusion(ctx, index=entry, size=tree_size))


@app.command("consistency")
def consistency(
    first: Annotated[int, typer.Option(help="Earlier tree size")],
    second: Annotated[int | None, typer.Option(help="Later tree size (default: now)")] = None,
) -> None:
    """A consistency proof: the log of size FIRST is a prefix of the log of size SECOND (JSON)."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        print_json(service.prove_consistency(ctx, first=first, second=second))


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL file to write")],
    start: Annotated[str | None, typer.Option("--from", help="ISO time, inclusive (UTC if no zone)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO time, exclusive")] = None,
) -> None:
    """Export entries with the hashes and signed tree head a regulator needs to check them offline
    (tools/verify_audit_export.py, with only the public key)."""
    from synthgov.audit import service
    from synthgov.files import staged

    first, last = _when(start), _when(end)
    lines = 0
    with staged(output, text=True, publish=True) as (fh, _), platform() as plat, \
            plat.unit_of_work(operator()) as ctx:
        for line in service.export_lines(ctx, start=first, end=last):
            fh.write(line + "\n")
            lines += 1
    common.out_console.print(f"exported {max(lines - 3, 0)} entries to {output}")


@app.command("purge")
def purge(
    dry_run: Annotated[bool, typer.Option(help="Count, change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Empty the personal data of entries past retention (leaf hashes stay; legal holds respected)."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        result = service.purge_expired(ctx, dry_run=dry_run)
    if as_json:
        print_json(result)
    else:
        verb = "would purge" if dry_run else "purged"
        common.out_console.print(
            f"{verb} {result['purged']} entries {result['by_kind']}; {result['held']} kept by holds")


@hold_app.command("add")
def hold_add(
    reason: Annotated[str, typer.Option(help="Why (case number, order)")],
    subject: Annotated[str | None, typer.Option(help="Event subject, e.g. a ProduceID")] = None,
    kind: Annotated[str | None, typer.Option(help="Event kind, e.g. content.labeled")] = None,
) -> None:
    """Place a legal hold."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        hold = service.place_hold(ctx, subject=subject, kind=kind, reason=reason)
    common.out_console.print(f"hold {hold.id} placed")


@hold_app.command("list")
def hold_list() -> None:
    """List holds (JSON)."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        print_json([{"id": h.id, "subject": h.subject, "kind": h.kind, "reason": h.reason,
                     "created_at": h.created_at.isoformat(),
                     "released_at": h.released_at.isoformat() if h.released_at else None}
                    for h in service.list_holds(ctx)])


@hold_app.command("release")
def hold_release(hold_id: Annotated[str, typer.Argument(help="Hold id")]) -> None:
    """Release a legal hold."""
    from synthgov.audit import service

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        service.release_hold(ctx, hold_id=hold_id)
    common.out_console.print(f"hold {hold_id} released")
