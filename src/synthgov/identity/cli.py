"""``synthgov apikey``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

app = typer.Typer(help="API keys for the HTTP API.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="What the key is for")] = "default",
    permission: Annotated[list[str] | None, typer.Option("--permission", "-p", help="Grant (repeat)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a key. The secret is printed once and never stored."""
    from synthgov.cli.common import operator, out_console, platform, print_json
    from synthgov.identity.service import create_api_key

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        new = create_api_key(ctx, name=name, permissions=permission)
    if as_json:
        print_json({"id": new.key.id, "name": new.key.name, "permissions": new.key.permissions, "token": new.token})
    else:
        perms = ", ".join(new.key.permissions)
        out_console.print(f"API key {new.key.id} ({perms}). Store it now; it is not shown again:")
        print(new.token)


@app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List keys (never their secrets)."""
    from rich.table import Table

    from synthgov.cli.common import operator, out_console, platform, print_json
    from synthgov.identity.service import list_api_keys

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        rows: list[dict[str, Any]] = [
            {"id": k.id, "name": k.name, "permissions": k.permissions, "created_at": k.created_at.isoformat(),
             "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
            for k in list_api_keys(ctx)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "permissions", "created", "revoked")
    for r in rows:
        table.add_row(r["id"], r["name"], ", ".join(r["permissions"]), r["created_at"], r["revoked_at"] or "")
    out_console.print(table)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="Key id from `apikey list`")]) -> None:
    """Revoke a key at once."""
    from synthgov.cli.common import operator, out_console, platform
    from synthgov.identity.service import revoke_api_key

    with platform() as plat, plat.unit_of_work(operator()) as ctx:
        revoke_api_key(ctx, key_id=key_id)
    out_console.print(f"revoked {key_id}")
