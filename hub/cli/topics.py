"""``rmt-hub topics``: the topic catalogue, and applying it to a cluster."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.cli._common import BootstrapOption, console, handle_errors, require_cluster, settings_for
from topics import Action, ApplyReport, apply_to_cluster, build_catalogue
from topics.catalogue import FOREVER, PERSON_RECORDS, TopicCatalogue, TopicSpec

__all__ = ["app", "print_report"]

app = typer.Typer(help="The topic catalogue: list it, apply it to a cluster.", no_args_is_help=True)

_STYLE = {
    Action.CREATE: "green",
    Action.UNCHANGED: "dim",
    Action.ADD_PARTITIONS: "yellow",
    Action.ALTER_CONFIG: "yellow",
    Action.DRIFT: "bold red",
}


def _retention(ms: int) -> str:
    if ms == FOREVER:
        return "forever"
    hours = ms // 3_600_000
    return f"{hours // 24}d" if hours >= 24 and hours % 24 == 0 else f"{hours}h"


def _values(topic: TopicSpec) -> str:
    names = list(topic.value_schemas)
    short = []
    if set(PERSON_RECORDS) <= set(names):
        names = [n for n in names if n not in PERSON_RECORDS]
        short.append(f"{len(PERSON_RECORDS)} person records")
    short += [n.rsplit(".", 1)[-1] for n in names]
    return " + ".join(short)


def catalogue_table(catalogue: TopicCatalogue) -> Table:
    table = Table(title=f"Topic catalogue ({len(catalogue)} topics)", show_lines=False)
    table.add_column("topic", no_wrap=True, style="bold")
    for column in ("parts", "key", "values", "cleanup", "retention", "owner", "readers"):
        table.add_column(column, overflow="fold")
    for topic in catalogue:
        table.add_row(
            topic.name,
            str(topic.partitions),
            topic.key.name.lower(),
            _values(topic),
            topic.cleanup_policy.value,
            _retention(topic.retention_ms),
            topic.owner,
            ", ".join(topic.readers),
        )
    return table


def print_report(report: ApplyReport, *, verbose: bool = False) -> None:
    """The apply report: one row per topic that changes (or all with ``verbose``)."""
    rows = [c for c in report.changes if verbose or c.action is not Action.UNCHANGED]
    if rows:
        table = Table(title="topics apply" + (" (dry run)" if report.dry_run else ""))
        for column in ("topic", "action", "detail"):
            table.add_column(column)
        for change in rows:
            action = change.action.value
            if report.dry_run and change.action is not Action.UNCHANGED:
                action = f"would {action}"
            style = _STYLE[change.action]
            table.add_row(change.topic.name, f"[{style}]{action}[/]", change.detail)
        console.print(table)
    console.print(report.summary())


@app.command("list")
@handle_errors
def list_topics(
    partner: str | None = typer.Option(
        None, "--partner", "-p", help="Only the topics this principal may read or write."
    ),
) -> None:
    """Print the catalogue as a table (no cluster needed)."""
    catalogue = build_catalogue(settings_for())
    if partner:
        catalogue = catalogue.model_copy(
            update={
                "topics": tuple(
                    t
                    for t in catalogue
                    if partner in t.readers or partner in t.writers or partner == t.owner
                )
            }
        )
    console.print(catalogue_table(catalogue))


@app.command("apply")
@handle_errors
def apply(
    bootstrap_servers: str | None = BootstrapOption,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change, change nothing."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List unchanged topics too."),
) -> None:
    """Create missing topics and repair drift; a second run changes nothing."""
    settings = require_cluster(settings_for(bootstrap_servers))
    report = apply_to_cluster(settings, build_catalogue(settings), dry_run=dry_run)
    print_report(report, verbose=verbose)
    if any(c.action is Action.DRIFT for c in report.pending):
        raise typer.Exit(1)
