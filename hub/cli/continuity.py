"""``rmt-hub continuity``: has the cluster lost what this hub wrote to it?

``check`` compares the cluster's incarnation marker with the one this hub's data
directory remembers (:mod:`hub.continuity`) and exits 0 (intact, or a first run: the
marker is adopted or stamped), or 3 on a loss, with the loud explanation and what to do.
For cron jobs and orchestrators beside the services that ``rmt-hub up`` would otherwise
watch itself. ``stamp`` writes a new marker after a recovery was done by hand.
"""

from __future__ import annotations

import typer
from rich.panel import Panel

from hub.cli._common import BootstrapOption, console, handle_errors, require_cluster, settings_for
from hub.continuity import ContinuityGuard, Verdict

__all__ = ["EXIT_LOST", "app", "check", "stamp"]

EXIT_LOST = 3
"""Exit status of ``check`` when the cluster lost its data."""

app = typer.Typer(help="Broker continuity: detect a cluster that lost its data.")


@app.callback(no_args_is_help=True)
def _group() -> None:
    """Broker continuity: detect a cluster that lost its data."""


@app.command("check")
@handle_errors
def check(bootstrap_servers: str | None = BootstrapOption) -> None:
    """Exit 0 if the cluster holds this hub's marker (or on a first run), 3 if it lost it."""
    guard = ContinuityGuard(require_cluster(settings_for(bootstrap_servers)))
    report = guard.establish()
    if report.verdict is Verdict.LOST:
        console.print(Panel(report.message(), title="BROKER DATA LOSS", style="bold red"))
        console.print(
            "After recovering (see docs/operations.md, 'When the broker loses its data'), run "
            "`rmt-hub continuity stamp`."
        )
        raise typer.Exit(EXIT_LOST)
    console.print(report.message(), highlight=False)


@app.command("stamp")
@handle_errors
def stamp(bootstrap_servers: str | None = BootstrapOption) -> None:
    """Write a new incarnation marker and remember it (after a recovery)."""
    incarnation = ContinuityGuard(require_cluster(settings_for(bootstrap_servers))).stamp()
    console.print(
        f"stamped incarnation {incarnation.id} at {incarnation.stamped_at:%Y-%m-%d %H:%M:%S} UTC",
        highlight=False,
    )
