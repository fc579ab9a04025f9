"""``synthgov init``."""

from __future__ import annotations

from typing import Annotated

import typer


def init(
    provider_code: Annotated[str | None, typer.Option(help="ContentProducer code (TC260-PG-20252A, 27 chars)")] = None,
    provider_name: Annotated[str | None, typer.Option(help="Legal name of the provider")] = None,
    demo: Annotated[bool, typer.Option(help="Use the clearly marked demo provider profile")] = False,
    force: Annotated[bool, typer.Option(help="Replace a config that names another provider")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create the data folder, the config file and the provider's SM2 signing key pair, and migrate the database."""
    from synthgov.cli.common import out_console, print_json, settings
    from synthgov.provider.service import init_provider

    result = init_provider(settings(), provider_code=provider_code, provider_name=provider_name, demo=demo, force=force)
    if as_json:
        print_json({k: str(v) if hasattr(v, "parts") else v for k, v in result.__dict__.items()})
        return
    out_console.print(f"data folder  {result.data_dir}\nconfig       {result.config_file}")
    state = "created" if result.key_created else "kept existing"
    out_console.print(f"SM2 key      {result.key_file} ({state}, key id {result.key_id})")
    out_console.print(f"provider     {result.provider_code}" + ("  [bold red]DEMO profile[/]" if result.demo else ""))
    out_console.print("database     migrated; next: synthgov serve, or synthgov label image IN -o OUT")
