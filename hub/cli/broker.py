"""``rmt-hub broker``: run the hub's own broker (Apache Kafka or Tansu) in the foreground.

It prints the bootstrap address (and an ``export HUB_BOOTSTRAP_SERVERS=...`` line for
other shells), then waits. Ctrl-C, SIGTERM and SIGHUP all stop the broker cleanly and
exit with code 0; a broker that dies on its own exits with code 1.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import typer
from rich.markup import escape

from hub.broker import choose_broker, distribution, make_broker
from hub.cli._common import console, err_console, handle_errors
from hub.config import load_settings
from hub.errors import BrokerError

__all__ = ["broker"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_WATCH_INTERVAL_S = 0.25

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _stop_requested(signum: int, frame: FrameType | None) -> NoReturn:
    # Ignore further stop signals, so a second Ctrl-C cannot cut the clean stop short,
    # and unwind through the normal KeyboardInterrupt path, which stops the broker.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt inside the block.

    Signals that were ignored when the process started (``nohup``, background jobs)
    stay ignored. The previous handlers come back on exit.
    """
    previous: dict[signal.Signals, _Handler] = {}
    for sig in _STOP_SIGNALS:
        handler = signal.getsignal(sig)
        if handler is not signal.SIG_IGN:
            previous[sig] = handler
            signal.signal(sig, _stop_requested)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@handle_errors
def broker(
    host: str | None = typer.Option(
        None,
        "--host",
        help="Address to bind and advertise to clients (default: HUB_EMBEDDED_HOST or 127.0.0.1).",
    ),
    port: int | None = typer.Option(
        None,
        "--port",
        min=0,
        max=65_535,
        help="Port to listen on, 0 picks a free one (default: HUB_EMBEDDED_PORT or 0).",
    ),
    ready_timeout: float | None = typer.Option(
        None,
        "--ready-timeout",
        min=0.1,
        help="Seconds to wait until the broker answers "
        "(default: HUB_EMBEDDED_READY_TIMEOUT_S or 60).",
    ),
    kind: str | None = typer.Option(
        None,
        "--broker",
        help="kafka (Apache Kafka, needs Java 17+) or tansu (memory-only); "
        "default: HUB_EMBEDDED_BROKER, else Apache Kafka where Java 17+ is found.",
    ),
    install_only: bool = typer.Option(
        False,
        "--install",
        help="Only fetch Apache Kafka's jars through Maven (once per machine), then exit.",
    ),
) -> None:
    """Run the hub's own broker until Ctrl-C or SIGTERM (Apache Kafka or Tansu)."""
    if install_only:
        distribution.install(progress=lambda line: console.print(line, highlight=False))
        return
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["embedded_host"] = host
    if port is not None:
        overrides["embedded_port"] = port
    if ready_timeout is not None:
        overrides["embedded_ready_timeout_s"] = ready_timeout
    if kind is not None:
        overrides["embedded_broker"] = kind
    settings = load_settings(**overrides)
    if not settings.embedded:
        err_console.print(
            f"note: HUB_BOOTSTRAP_SERVERS is set ({escape(settings.bootstrap_servers or '')}); "
            "starting an embedded broker anyway",
            highlight=False,
            soft_wrap=True,
        )
    log_path = settings.data_dir / "broker.log"
    choice = choose_broker(settings)
    console.print(f"broker: {escape(choice.describe())}", highlight=False, soft_wrap=True)
    embedded = make_broker(settings, choice.kind)
    keeps = f"data in {settings.data_dir / 'kafka'}" if embedded.persistent else "memory-only"
    stopped_by: str | None = None
    with _stop_signals_interrupt():
        try:
            with embedded:
                address = embedded.bootstrap_servers
                console.print(
                    f"[bold green]embedded broker ready[/] on {escape(address)} "
                    f"(pid {embedded.pid}, {escape(embedded.name)}, {escape(keeps)}, "
                    f"log {escape(str(log_path))})",
                    highlight=False,
                    soft_wrap=True,
                )
                console.print(
                    f"export HUB_BOOTSTRAP_SERVERS={address}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
                console.print("Ctrl-C stops it.", style="dim", highlight=False)
                while embedded.running:
                    time.sleep(_WATCH_INTERVAL_S)
                raise BrokerError(
                    f"the embedded broker on {address} exited on its own; see {log_path}"
                )
        except KeyboardInterrupt as interrupt:
            stopped_by = str(interrupt) or "SIGINT"
    console.print(f"embedded broker stopped ({stopped_by})", highlight=False)
