"""``rmt-hub demo``: synthetic input files for every partner kind, and feeding them in.

::

    rmt-hub demo generate --people 1000 --out demo-data --seed 2021
    rmt-hub demo feed demo-data          # through the connectors into a running hub
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from connectors.demo import feed_demo, generate
from hub.cli._common import (
    BootstrapOption,
    console,
    err_console,
    handle_errors,
    require_cluster,
    settings_for,
)
from hub.cli.connect import RegistryUrlOption
from hub.security.config import ensure_keys, security_enabled
from topics import load_partners

__all__ = ["app"]

app = typer.Typer(help="Synthetic demo data for every partner kind.", no_args_is_help=True)


@app.command("generate")
@handle_errors
def generate_files(
    *,
    people: Annotated[
        int, typer.Option("--people", "-n", min=1, help="How many job seekers.")
    ] = 1000,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("demo-data"),
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files.")] = 2021,
) -> None:
    """Write realistic exports of every partner kind (a few rows invalid on purpose)."""
    settings = settings_for()
    manifest = generate(
        out, people=people, seed=seed, partners=load_partners(settings.partners_file)
    )
    table = Table(title=f"Demo data for {people} people (seed {seed}) in {out}")
    for column in ("kind", "partner", "file", "rows", "invalid lines"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for file in manifest.files:
        invalid = ", ".join(map(str, file.invalid_lines[:6]))
        if len(file.invalid_lines) > 6:
            invalid += f", ... ({len(file.invalid_lines)})"
        table.add_row(file.kind, file.partner, file.path, str(file.rows), invalid or "-")
    console.print(table)
    console.print(f"manifest: {out / 'manifest.json'}")


@app.command("feed")
@handle_errors
def feed(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)] = Path("demo-data"),
    *,
    bootstrap_servers: str | None = BootstrapOption,
    registry_url: str | None = RegistryUrlOption,
) -> None:
    """Feed a generated directory through the connectors (a second run publishes nothing)."""
    settings = require_cluster(settings_for(bootstrap_servers))
    if security_enabled(settings):  # the hub's key store: keys for partners that have none
        ensure_keys(settings, load_partners(settings.partners_file))
    summary = feed_demo(settings, directory, registry_url=registry_url, console=err_console)
    console.print(summary.table())
    console.print(summary.summary())
