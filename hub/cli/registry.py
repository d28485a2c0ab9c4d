"""``rmt-hub registry``: serve the embedded schema registry in the foreground.

Runs against the cluster in ``HUB_BOOTSTRAP_SERVERS`` (or ``--bootstrap-servers``),
keeping schemas in ``HUB_SCHEMA_REGISTRY_TOPIC``; prints its URL and an ``export
HUB_SCHEMA_REGISTRY_URL=...`` line for other shells, then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from hub.cli._common import (
    BootstrapOption,
    console,
    err_console,
    handle_errors,
    require_cluster,
    require_safe_start,
    settings_for,
)
from hub.cli.up import wait_for_shutdown
from hub.registry.embedded import EmbeddedRegistry

__all__ = ["registry"]


@handle_errors
def registry(
    bootstrap_servers: str | None = BootstrapOption,
    host: str | None = typer.Option(
        None, "--host", help="Address to bind (default: HUB_REGISTRY_HOST or 127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None,
        "--port",
        min=0,
        max=65_535,
        help="Port to listen on, 0 picks a free one (default: HUB_REGISTRY_PORT or 8081).",
    ),
    topic: str | None = typer.Option(
        None, "--topic", help="Store topic (default: HUB_SCHEMA_REGISTRY_TOPIC or _schemas)."
    ),
) -> None:
    """Serve the embedded Confluent-compatible schema registry until Ctrl-C."""
    settings = require_safe_start(
        require_cluster(settings_for(bootstrap_servers)), "rmt-hub registry"
    )
    if settings.schema_registry_url:
        err_console.print(
            f"note: HUB_SCHEMA_REGISTRY_URL is set ({escape(settings.schema_registry_url)}); "
            "serving an embedded registry anyway",
            highlight=False,
            soft_wrap=True,
        )
    embedded = EmbeddedRegistry(settings, host=host, port=port, topic=topic)
    with embedded:
        subjects = len(embedded.service.subjects())
        console.print(
            f"[bold green]schema registry ready[/] on {escape(embedded.url)} "
            f"(store: topic {escape(embedded.store.topic)} on "
            f"{escape(settings.bootstrap_servers or '')}, {subjects} subjects)",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"export HUB_SCHEMA_REGISTRY_URL={embedded.url}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        console.print("Ctrl-C stops it.", style="dim", highlight=False)
        name = wait_for_shutdown()
    console.print(f"schema registry stopped ({name})", highlight=False)
