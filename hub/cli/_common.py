"""What every command shares: settings from options, console, error mapping."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from hub.config import HubSettings, load_settings
from hub.errors import ConfigError, HubError

__all__ = [
    "BootstrapOption",
    "console",
    "err_console",
    "handle_errors",
    "require_cluster",
    "require_safe_start",
    "settings_for",
]

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Map the hub's errors to one red line on stderr and exit code 1 (no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except HubError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from exc

    return wrapper


def settings_for(bootstrap_servers: str | None = None) -> HubSettings:
    """Settings from the environment, with a command-line bootstrap override."""
    overrides = {"bootstrap_servers": bootstrap_servers} if bootstrap_servers else {}
    return load_settings(**overrides)


def require_cluster(settings: HubSettings) -> HubSettings:
    """Commands that act on a running cluster need its address."""
    if settings.embedded:
        raise ConfigError(
            "no cluster to act on: set HUB_BOOTSTRAP_SERVERS or pass --bootstrap-servers "
            "(start one with `rmt-hub broker`, or run everything with `rmt-hub up`)"
        )
    return settings


def require_safe_start(
    settings: HubSettings, command: str, *, subject_keys: bool = False
) -> HubSettings:
    """Long-running commands on an external cluster refuse to start unsafely
    (:func:`hub.security.startup.check_start`); ``subject_keys``: the command seals or
    grants subject keys (router, consent service), which every replica must share."""
    from hub.security.startup import check_start  # noqa: PLC0415 - cryptography on use

    check_start(settings, command, subject_keys=subject_keys)
    return settings


BootstrapOption = typer.Option(
    None,
    "--bootstrap-servers",
    "-b",
    envvar="HUB_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers (host:port,...).",
    show_envvar=True,
)
