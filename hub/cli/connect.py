"""``rmt-hub connect``: partner connectors: import exports, serve a webhook, deliver inboxes.

::

    rmt-hub connect import gemeente export.csv --partner gemeente-amsterdam
    rmt-hub connect webhook --partner sp-werkgevers --port 8090
    rmt-hub connect deliver --partner uwv --to file:/srv/drop/uwv [--format csv]
    rmt-hub connect deliver --partner uwv --to https://uwv.example/rmt-inbox
    rmt-hub connect deliver --partner gemeente-amsterdam --to file:/srv/drop
        --consent-url https://hub.example  # and HUB_CONSENT_API_KEY: health fields opened

Every command needs a cluster (``HUB_BOOTSTRAP_SERVERS`` or ``-b``) and a schema registry
(``HUB_SCHEMA_REGISTRY_URL`` or ``--registry-url``; ``rmt-hub up`` prints both).
``import`` exits with 2 when rows were rejected (the good rows are published).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from connectors.common import ConnectorError, ImportReport, print_report
from connectors.delivery import deliver, open_sink, redact_url
from connectors.gemeente import import_gemeente
from connectors.sbb import import_sbb
from connectors.social_partners import create_app
from connectors.uwv import import_uwv
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
from hub.http import HttpServer
from hub.sdk import PartnerClient
from schemas.vocabulary import PartnerKind

__all__ = ["RegistryUrlOption", "app"]

app = typer.Typer(
    help="Partner connectors: import exports, serve the social partners' webhook, deliver "
    "a partner's inbox to files or a webhook.",
    no_args_is_help=True,
)

RegistryUrlOption = typer.Option(
    None,
    "--registry-url",
    envvar="HUB_SCHEMA_REGISTRY_URL",
    help="Schema registry URL (rmt-hub up prints it).",
    show_envvar=True,
)
PartnerOption = typer.Option(
    ..., "--partner", "-p", help="Partner id from the partner directory (rmt-hub topics list)."
)


class ImportKind(StrEnum):
    UWV = "uwv"
    GEMEENTE = "gemeente"
    SBB = "sbb"


_IMPORTERS: dict[ImportKind, tuple[PartnerKind, Callable[..., ImportReport]]] = {
    ImportKind.UWV: (PartnerKind.UWV, import_uwv),
    ImportKind.GEMEENTE: (PartnerKind.GEMEENTE, import_gemeente),
    ImportKind.SBB: (PartnerKind.SBB, import_sbb),
}


@app.command("import")
@handle_errors
def import_file(
    kind: Annotated[ImportKind, typer.Argument(help="The export's format: uwv, gemeente or sbb.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    *,
    partner: str = PartnerOption,
    bootstrap_servers: str | None = BootstrapOption,
    registry_url: str | None = RegistryUrlOption,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal)."),
    ] = None,
) -> None:
    """Import a partner's export file: good rows are published, bad rows reported."""
    settings = require_cluster(settings_for(bootstrap_servers))
    partner_kind, importer = _IMPORTERS[kind]
    with PartnerClient(settings, partner, registry_url=registry_url) as client:
        if client.partner.kind is not partner_kind:
            raise ConnectorError(
                f"{partner} is a {client.partner.kind.value} partner; a {kind.value} export "
                f"is imported as a {partner_kind.value} partner"
            )
        report = importer(client, file, console=err_console, progress=progress)
    print_report(report, console)
    if not report.ok:
        raise typer.Exit(2)


@app.command("webhook")
@handle_errors
def webhook(
    *,
    partner: str = PartnerOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8090, "--port", help="Port to listen on (0: a free one)."),
    bootstrap_servers: str | None = BootstrapOption,
    registry_url: str | None = RegistryUrlOption,
) -> None:
    """Serve the social partners' webhook for PARTNER until Ctrl-C."""
    settings = require_safe_start(
        require_cluster(settings_for(bootstrap_servers)), "rmt-hub connect webhook"
    )
    with PartnerClient(settings, partner, registry_url=registry_url) as client:
        if client.partner.kind is not PartnerKind.SOCIAL_PARTNER:
            raise ConnectorError(
                f"{partner} is a {client.partner.kind.value} partner; the webhook takes "
                "notices of social partners"
            )
        server = HttpServer(create_app(client), host=host, port=port, name="webhook")
        url = server.start()
        try:
            console.print(f"[bold green]webhook for {partner}[/] on {url}  (docs: {url}/docs)")
            console.print(f"{wait_for_shutdown()} received, stopping.")
        finally:
            server.stop()


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class FileFormatChoice(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


@app.command("deliver")
@handle_errors
def deliver_inbox(
    *,
    partner: str = PartnerOption,
    to: Annotated[str, typer.Option("--to", help="file:DIR or http(s)://... (a webhook).")],
    fmt: Annotated[
        FileFormatChoice, typer.Option("--format", help="File format of a file drop.")
    ] = FileFormatChoice.JSONL,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, help="Webhook attempts per record.")
    ] = 5,
    backoff: Annotated[
        float, typer.Option("--backoff", min=0.0, help="First retry delay in seconds.")
    ] = 0.5,
    once: Annotated[bool, typer.Option("--once", help="Exit when the inbox is drained.")] = False,
    consent_url: Annotated[
        str | None,
        typer.Option(
            "--consent-url",
            help="The hub's consent service, which grants the keys of sealed health fields "
            "(HUB_CONSENT_URL; the partner's API key in HUB_CONSENT_API_KEY); without it "
            "those fields are delivered empty.",
        ),
    ] = None,
    bootstrap_servers: str | None = BootstrapOption,
    registry_url: str | None = RegistryUrlOption,
) -> None:
    """Deliver PARTNER's inbox to a file drop or a webhook, resuming where it stopped."""
    settings = require_cluster(settings_for(bootstrap_servers))
    if consent_url is not None:
        settings = settings.model_copy(update={"consent_url": consent_url})
    with _stop_on_signals() as stop:
        sink = open_sink(
            to,
            partner_id=partner,
            fmt="csv" if fmt is FileFormatChoice.CSV else "jsonl",
            max_attempts=max_attempts,
            backoff_s=backoff,
            stop=stop,
        )
        target = redact_url(to) if to.startswith("http") else to
        console.print(f"delivering the inbox of [bold]{partner}[/] to {target}; Ctrl-C stops")
        stats = deliver(
            settings,
            partner,
            sink,
            registry_url=registry_url,
            stop=stop,
            idle_exit_s=2.0 if once else None,
        )
    console.print(stats.summary())
