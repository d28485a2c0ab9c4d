"""``rmt-hub router``: run one router worker until Ctrl-C (or SIGTERM).

Start as many as you like with the same settings: they share the outbox partitions in
one consumer group (``<topic prefix>-router``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli._common import (
    BootstrapOption,
    console,
    handle_errors,
    require_cluster,
    require_safe_start,
    settings_for,
)
from hub.logging import configure_logging
from hub.router.options import RouterOptions
from hub.router.runtime import run_worker

__all__ = ["router"]


@handle_errors
def router(
    *,
    session_timeout: Annotated[
        float,
        typer.Option(
            "--session-timeout",
            help="Consumer-group session timeout in seconds (Apache Kafka's minimum is 6; "
            "3 makes failover quicker on the embedded broker).",
        ),
    ] = 6.0,
    heartbeat_interval: Annotated[
        float, typer.Option("--heartbeat-interval", help="Seconds.")
    ] = 1.0,
    batch_max: Annotated[
        int, typer.Option("--batch-max", help="Records per routed batch, at most.")
    ] = 500,
    status_file: Annotated[
        Path | None,
        typer.Option("--status-file", help="Write the worker's status (JSON) when it changes."),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
    ] = "WARNING",
    metrics_port: Annotated[
        int,
        typer.Option(
            "--metrics-port",
            help="Serve /metrics, /healthz and /readyz here (0: a free port; -1: not at all).",
        ),
    ] = 9102,
    metrics_host: Annotated[
        str,
        typer.Option("--metrics-host", help="Interface of /metrics ('0.0.0.0' in a container)."),
    ] = "127.0.0.1",
    bootstrap_servers: str | None = BootstrapOption,
) -> None:
    """Run a router worker: validate what partners publish, deliver what consents allow."""
    settings = require_cluster(settings_for(bootstrap_servers))
    configure_logging(settings)
    require_safe_start(settings, "rmt-hub router", subject_keys=True)
    options = RouterOptions.model_validate(
        {
            "session_timeout_s": session_timeout,
            "heartbeat_interval_s": heartbeat_interval,
            "batch_max": batch_max,
            "status_file": status_file,
            "log_level": log_level.upper(),
            "metrics_port": metrics_port,
            "metrics_host": metrics_host,
        }
    )
    console.print(
        f"[bold]router worker[/] on {settings.bootstrap_servers}, group "
        f"{settings.topic_prefix}-router. Press Ctrl-C to stop."
    )
    run_worker(settings, options)
