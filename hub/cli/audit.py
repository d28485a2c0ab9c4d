"""``rmt-hub audit``: verify the hash chains of the audit topic.

Reads every partition of the topic up to its fetch high watermark and checks that no
entry was changed, removed or reordered; with the key store's public directory it also
checks the hub's signature on each entry. ``--write-heads`` saves the head of each
partition (keep it where the topic's writers cannot change it); ``--expect-heads``
checks a later run against it, which also catches entries removed at the end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli._common import (
    BootstrapOption,
    console,
    err_console,
    handle_errors,
    require_cluster,
    settings_for,
)
from hub.errors import ConfigError
from hub.security.audit_chain import ChainHead, ChainReport, verify_chain
from hub.security.audit_log import read_audit_entries
from hub.security.hub_identity import HUB_ID, key_store
from topics import build_catalogue

__all__ = ["app", "report_table", "verify"]

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """The tamper-evident audit trail."""


def _read_heads(path: Path) -> dict[int, ChainHead]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        heads = [ChainHead.from_json(h) for h in data["heads"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a heads file written by --write-heads") from exc
    return {h.partition: h for h in heads}


def report_table(topic: str, report: ChainReport) -> Table:
    table = Table(title=f"audit chain of {topic}")
    for column in (
        "partition",
        "entries",
        "signed",
        "duplicates",
        "head seq",
        "head hash",
        "result",
    ):
        table.add_column(column, justify="right" if column != "result" else "left")
    broken = {b.partition: b for b in report.breaks}
    for partition in sorted(report.entries):
        head = report.heads.get(partition)
        found = broken.get(partition)
        table.add_row(
            str(partition),
            str(report.entries[partition]),
            str(report.signed.get(partition, 0)),
            str(report.duplicates.get(partition, 0)),
            str(head.seq) if head else "-",
            head.hash[:16] + "…" if head else "-",
            f"[bold red]{found.reason.value}[/] at "
            + (f"offset {found.offset}" if found.offset is not None else "the end")
            if found
            else "[green]ok[/]",
        )
    return table


@app.command("verify")
@handle_errors
def verify(  # noqa: PLR0917 - typer options
    topic: Annotated[
        str | None,
        typer.Argument(help="The audit topic; the catalogue's disclosure topic when left out."),
    ] = None,
    bootstrap_servers: str | None = BootstrapOption,
    require_signatures: Annotated[
        bool,
        typer.Option(
            "--require-signatures", help="An entry without the hub's signature is a break."
        ),
    ] = False,
    expect_heads: Annotated[
        Path | None,
        typer.Option(
            "--expect-heads", exists=True, dir_okay=False, help="Heads of an earlier run."
        ),
    ] = None,
    write_heads: Annotated[
        Path | None, typer.Option("--write-heads", dir_okay=False, help="Save the heads here.")
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to read the topic.")
    ] = 120.0,
) -> None:
    """Verify every partition's chain; exit 1 on the first changed, removed or reordered entry."""
    settings = require_cluster(settings_for(bootstrap_servers))
    name = topic or build_catalogue(settings).disclosures.name
    store = key_store(settings)
    directory = store.directory() if store.directory_path.exists() else None
    if require_signatures and (directory is None or not directory.keys_of(HUB_ID)):
        raise ConfigError("--require-signatures needs the hub's public key in the key store")
    entries = read_audit_entries(settings, name, timeout_s=timeout_s)
    report = verify_chain(
        entries,
        directory=directory,
        require_signatures=require_signatures,
        expected_heads=_read_heads(expect_heads) if expect_heads else None,
    )
    console.print(report_table(name, report))
    if write_heads is not None and report.ok:
        payload = {"topic": name, "heads": [h.to_json() for _, h in sorted(report.heads.items())]}
        write_heads.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        console.print(f"heads written to {write_heads}")
    if not report.ok:
        for found in report.breaks:
            err_console.print(f"[bold red]broken:[/] {found}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {sum(report.entries.values())} entries, no break")
