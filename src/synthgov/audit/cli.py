"""``synthgov audit``: verify, prove, export, tree heads, retention and legal holds."""

from __future__ import annotations

import sys
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
def verify(
    checkpoint: Annotated[list[str] | None, typer.Option(
        "--checkpoint", help="Also check against these checkpoints: a checkpoint file, a signed note, or a URL "
        "serving either (another instance's /v1/audit/checkpoint, a witness's /v1/witness/checkpoint?origin=…)")]
    = None,
    offline: Annotated[bool, typer.Option(help="Do not ask the configured witnesses")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Re-hash every entry, re-derive every column and every bound record from the log, and check the
    log against the checkpoint file, the witnesses and any --checkpoint. Exit 1 on failure."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from synthgov.audit import verification

    progress = Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=common.err_console, transient=True)
    task = progress.add_task("verify", total=None)
    shown = []

    def total(n: int) -> None:
        progress.update(task, total=n)
        if n >= 10_000:
            progress.start()
            shown.append(True)

    with platform() as plat:
        try:
            result = verification.verify(plat, operator(), sources=checkpoint or [], witnesses=not offline,
                                         progress=lambda n: progress.advance(task, n), total=total)
        finally:
            if shown:
                progress.stop()
    if as_json:
        print_json(result.to_dict())
    elif result.ok:
        common.out_console.print(
            f"[green]ok[/]: {result.entries} entries ({result.purged} purged), every column re-derived; "
            f"{result.rows_checked} bound rows (records, API keys) match their entries; "
            f"{result.checkpoints_checked} checkpoints from outside the database and "
            f"{result.tree_heads_checked} kept tree heads consistent; root {result.root}")
        for note in result.notes:
            common.out_console.print(f"note: {note}")
    else:
        for problem in result.problems:
            common.out_console.print(f"[red]FAILED[/]: {problem}")
        for note in result.notes:
            common.out_console.print(f"note: {note}")
    if not result.ok:
        exit_with(1)


@app.command("checkpoint")
def checkpoint_now(
    force: Annotated[bool, typer.Option(help="Make one even if the log has not grown")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Sign a checkpoint of the log now, have the witnesses cosign it, append it to the checkpoint file."""
    from synthgov.audit.checkpoints import make_checkpoint

    with platform() as plat:
        outcome = make_checkpoint(plat, force=force)
    if as_json:
        print_json(outcome.to_dict())
    else:
        verb = "made" if outcome.made else "unchanged (the log has not grown; --force makes one)"
        common.out_console.print(f"checkpoint of size {outcome.size} {verb}")
        for name, said in outcome.witnesses.items():
            common.out_console.print(f"  {name}: {said}")
        if outcome.made or as_json:
            sys.stdout.write(outcome.note)
    if outcome.problems:
        exit_with(1)


@app.command("keys")
def keys() -> None:
    """The verifier keys to give witnesses and regulators (this log's, and this instance's witness key)."""
    from synthgov.audit.checkpoints import log_verifiers
    from synthgov.audit.policy import AuditPolicy
    from synthgov.audit.witness import witness_verifier

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        print_json({"origin": ctx.policy(AuditPolicy).origin, "log_keys": [v.vkey for v in log_verifiers(plat)],
                    "witness_key": witness_verifier(ctx).vkey})


@app.command("rotate-key")
def rotate_key() -> None:
    """Replace the log signing key: the rotation is a log entry endorsed by the old key; checkpoints
    signed before keep verifying. Give the new key to the witnesses (`synthgov audit keys`)."""
    from synthgov.audit import verification

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        event = verification.rotate_key(ctx)
    common.out_console.print(f"audit key rotated: {event.old_key_id} -> {event.new_key_id}")


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
    """Export entries with the hashes, the signed tree head and the latest checkpoint with its
    cosignatures that a regulator needs to check them offline (tools/verify_audit_export.py, with
    only the public key and the witnesses' keys)."""
    from synthgov.audit import service
    from synthgov.audit.checkpoints import make_checkpoint
    from synthgov.files import staged

    first, last = _when(start), _when(end)
    lines = 0
    with platform() as plat:
        checkpoint = make_checkpoint(plat)  # the latest, or a new one when the log grew
        with staged(output, text=True, publish=True) as (fh, _), plat.unit_of_work(operator()) as ctx:
            for line in service.export_lines(ctx, start=first, end=last, checkpoint=checkpoint.note):
                fh.write(line + "\n")
                lines += 1
    common.out_console.print(f"exported {max(lines - 4, 0)} entries to {output}, up to the checkpoint of size "
                             f"{checkpoint.size}")


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
