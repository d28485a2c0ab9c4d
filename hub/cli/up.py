"""``rmt-hub up``: run the hub (for now: broker, topics, self-check) until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer
from rich.table import Table

from hub.broker import broker_for
from hub.cli._common import BootstrapOption, console, handle_errors, settings_for
from hub.cli.topics import print_report
from hub.errors import HubError
from hub.kafka import admin_client
from hub.logging import configure_logging
from hub.registry.client import client_for
from hub.registry.embedded import registry_for
from hub.selfcheck import RoundTrip, run_selfcheck
from hub.serde.canonical import CanonicalCodec
from schemas import load_schemas
from topics import apply_catalogue, build_catalogue

__all__ = ["up", "wait_for_shutdown"]


def wait_for_shutdown() -> str:
    """Block until SIGINT or SIGTERM; return the signal's name."""
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return received[0]


def _selfcheck_table(results: list[RoundTrip]) -> Table:
    table = Table(title="Self-check: one record per schema over the broker")
    table.add_column("schema", style="bold")
    table.add_column("wire bytes", justify="right")
    table.add_column("send → receive", justify="right")
    table.add_column("result")
    for r in results:
        verdict = "[green]ok[/]" if r.ok else f"[bold red]FAILED[/] {r.detail}"
        table.add_row(r.schema.rsplit(".", 1)[-1], str(r.size), f"{r.latency_ms:.1f} ms", verdict)
    return table


@handle_errors
def up(
    bootstrap_servers: str | None = BootstrapOption,
    once: bool = typer.Option(
        False, "--once", help="Exit after the self-check instead of running until Ctrl-C."
    ),
) -> None:
    """Run the hub: embedded broker (unless HUB_BOOTSTRAP_SERVERS is set), topics, self-check."""
    settings = settings_for(bootstrap_servers)
    configure_logging(settings)
    flavour = "embedded Tansu, memory-only" if settings.embedded else "external cluster"
    with broker_for(settings) as running:
        console.print(f"[bold]bootstrap servers:[/] {running.bootstrap_servers}  ({flavour})")
        catalogue = build_catalogue(running)
        admin = admin_client(running)
        try:
            print_report(apply_catalogue(admin, catalogue))
        finally:
            admin.close()
        with registry_for(running) as registry_url:
            kind = "external" if running.schema_registry_url else "embedded"
            console.print(f"[bold]schema registry:[/] {registry_url}  ({kind})")
            codec = CanonicalCodec(client_for(running, registry_url))
            ids = codec.register(load_schemas().messages())
            console.print(f"registered {len(ids)} message schemas (RecordNameStrategy)")
            results = run_selfcheck(running, catalogue.selfcheck.name, codec)
            console.print(_selfcheck_table(results))
            passed = sum(r.ok for r in results)
            console.print(f"self-check: {passed}/{len(results)} schemas round-tripped exactly")
            if passed != len(results):
                raise HubError("self-check failed")
            if once:
                return
            console.print(
                f"[bold green]hub is up[/] on {running.bootstrap_servers}. Press Ctrl-C to stop."
            )
            name = wait_for_shutdown()
            console.print(f"{name} received, stopping.")
