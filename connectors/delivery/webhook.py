"""Delivery to a webhook: one HTTP POST per record, retried with exponential backoff.

Each record is POSTed as a CloudEvent in binary mode (``ce-id``, ``ce-type``, ...
headers; the record as the JSON body). A ``2xx`` answer delivers it. Connection errors,
timeouts, ``408``, ``425``, ``429`` and ``5xx`` are retried after ``backoff_s``,
``2 x backoff_s``, ``4 x backoff_s``, ... (capped at ``max_backoff_s``; a ``Retry-After``
in seconds is honoured when longer); after ``max_attempts`` attempts the record is given
up (:class:`DeliveryFailed`) and the delivery loop dead-letters it. Other ``4xx`` answers
mean the receiver will never take it: given up at once.

Records go one at a time, in offset order per partition, so a subject's records arrive
in order. A receiver that must never see a record twice de-duplicates on ``ce-id``:
the one window the sender cannot close is a crash after a POST succeeded and before it
was recorded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from connectors.delivery.formats import webhook_body, webhook_headers
from connectors.delivery.ledger import DeliveryLedger
from connectors.delivery.sink import Delivered, DeliveryFailed, DeliveryInterrupted
from hub.sdk import InboxMessage

__all__ = ["RETRYABLE_STATUS", "WebhookSink", "redact_url"]

RETRYABLE_STATUS = frozenset({408, 425, 429})


def redact_url(url: str) -> str:
    """``url`` without credentials and query (for logs and dead letters)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class WebhookSink:
    """POSTs each record to ``url``; see the module doc."""

    def __init__(
        self,
        url: str,
        *,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        timeout_s: float = 10.0,
        headers: Mapping[str, str] | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.url = url
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._stop = stop or threading.Event()
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=timeout_s, headers=dict(headers or {}), transport=transport
        )
        self.attempts = 0
        """POSTs made so far (for statistics)."""

    @property
    def name(self) -> str:
        return "webhook-" + hashlib.sha256(self.url.encode()).hexdigest()[:12]

    def recover(self, ledger: DeliveryLedger) -> None:
        """Nothing to settle: a POST either succeeded (and was recorded) or not."""

    def _wait(self, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        elif self._stop.wait(seconds):
            raise DeliveryInterrupted("stopping: the record was not delivered")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))

    def write(self, message: InboxMessage) -> Delivered:
        """POST ``message`` until it is taken, or raise DeliveryFailed."""
        body = webhook_body(message)
        headers = webhook_headers(message)
        last = "not attempted"
        for attempt in range(1, self.max_attempts + 1):
            if self._stop.is_set():
                raise DeliveryInterrupted("stopping: the record was not delivered")
            self.attempts += 1
            wait: float | None = None
            try:
                response = self._http.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return Delivered((message,))
                last = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code not in RETRYABLE_STATUS:
                    raise DeliveryFailed(
                        f"webhook {redact_url(self.url)} refused the record with {last} "
                        "(not retried)"
                    )
                wait = _retry_after(response)
            if attempt < self.max_attempts:
                self._wait(max(self.delay(attempt), wait or 0.0))
        raise DeliveryFailed(
            f"webhook {redact_url(self.url)}: {last} after {self.max_attempts} attempts"
        )

    def due(self) -> bool:
        return False

    def flush(self) -> Delivered:
        return Delivered()

    def close(self) -> None:
        self._http.close()
