"""Logging setup: human-readable (rich) or structured JSON, secrets always redacted.

Nothing is configured at import time; processes call :func:`configure_logging` once.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

import kafka.errors

from hub.config import HubSettings

__all__ = [
    "CLIENT_LOGGERS",
    "JsonFormatter",
    "SecretRedactor",
    "configure_logging",
    "quiet_client_loggers",
]

CLIENT_LOGGERS = ("kafka", "aiokafka", "httpx", "httpcore")
"""Client libraries that, at DEBUG, log whole requests and responses: a Kafka fetch
response or produce request with its record values, an HTTP body. With record security
off (or for topics that are not encrypted) those values carry BSNs, names and addresses,
so these loggers never go below WARNING, whatever the process's level."""

_REDACTED = "**********"


class SecretRedactor(logging.Filter):
    """Replaces any known secret value in a log record's message with a mask."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            redacted = message
            for secret in self._secrets:
                redacted = redacted.replace(secret, _REDACTED)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={"event_id": ...}`` fields are carried over."""

    _STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(settings: HubSettings) -> None:
    """Install one stderr handler on the root logger according to ``settings``."""
    handler: logging.Handler
    if settings.log_json:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        from rich.console import Console  # noqa: PLC0415 - only for human output
        from rich.logging import RichHandler  # noqa: PLC0415

        handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=True)
    handler.addFilter(SecretRedactor(settings.secret_values()))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    quiet_client_loggers(max(logging.WARNING, root.level))


class ClientNoise(logging.Filter):
    """Drops two kafka-python 3 log lines that report nothing wrong with the hub:

    * ``ERROR Metadata refresh: failed Cancelled``: a client closed while its periodic
      metadata request was in flight (every short-lived admin client and probe does that);
    * ``WARNING Task ... ran for 0.12s (>0.100s threshold)``: its network thread's own
      slow-callback check, which fires whenever the machine is busy.
    Every other line of these loggers passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "kafka.cluster" and record.msg == "Metadata refresh: failed %s":
            args = record.args if isinstance(record.args, tuple) else ()
            return not (args and isinstance(args[0], kafka.errors.Cancelled))
        slow_callback = "It is blocking the event loop" in record.getMessage()
        return not (record.name == "kafka.net.selector" and slow_callback)


def quiet_client_loggers(floor: int = logging.WARNING) -> None:
    """Keep :data:`CLIENT_LOGGERS` at ``floor`` (never below WARNING) or above.

    :func:`configure_logging` calls it; a process whose logging is set up by someone else
    (a faust worker configures its own from ``--loglevel``) calls it before that, since
    faust sets the root level and handlers but leaves these loggers' levels alone.
    """
    floor = max(floor, logging.WARNING)
    for name in CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < floor:  # NOTSET (inherit the root's) included
            logger.setLevel(floor)
    for name in ("kafka.cluster", "kafka.net.selector"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ClientNoise) for f in logger.filters):
            logger.addFilter(ClientNoise())
