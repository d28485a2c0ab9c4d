"""Producing canonical records: wire-format value, record key, CloudEvents headers.

:class:`RecordWriter` sends asynchronously (kafka-python batches in the background) and
counts acknowledgements and failures in callbacks, so it keeps no per-record state and
its memory stays flat however many records go through it. :meth:`RecordWriter.flush`
waits for every record sent so far and raises :class:`PublishError` if any failed.

The producer is idempotent (``enable_idempotence``), which with at most five requests in
flight keeps the order of records per partition, i.e. per subject, across retries.

``protect`` (see :mod:`hub.sdk.security`) turns the encoded value and its CloudEvents
headers into what is sent: encrypted to the hub and signed, or only signed.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import datetime
from typing import Any

from kafka.errors import KafkaError

from hub.config import HubSettings
from hub.errors import HubError
from hub.kafka import kafka_errors, producer
from hub.sdk.errors import PublishError
from hub.sdk.security import Protect
from hub.serde import ce_headers
from hub.serde.canonical import CanonicalCodec
from schemas.models import CanonicalRecord

__all__ = ["RecordWriter"]


class RecordWriter:
    """Sends canonical records to any topic; thread-safe; close it (or use ``with``)."""

    def __init__(self, settings: HubSettings, codec: CanonicalCodec, *, client_id: str) -> None:
        self.codec = codec
        self._producer = producer(
            settings,
            client_id=client_id,
            enable_idempotence=True,
            linger_ms=20,
            batch_size=256 * 1024,
            max_block_ms=settings.request_timeout_ms,
        )
        self._lock = threading.Lock()
        self._acked = 0
        self._failures: list[str] = []
        self._failed = 0

    @property
    def acknowledged(self) -> int:
        """Records the broker has acknowledged so far."""
        return self._acked

    def _on_ack(self, _metadata: Any) -> None:
        with self._lock:
            self._acked += 1

    def _on_error(self, exc: BaseException) -> None:
        with self._lock:
            self._failed += 1
            if len(self._failures) < 5:
                self._failures.append(f"{type(exc).__name__}: {exc}")

    def send(
        self,
        topic: str,
        record: CanonicalRecord,
        *,
        key: bytes | None,
        event_id: str,
        source: str,
        time: datetime,
        protect: Protect | None = None,
    ) -> None:
        """Queue ``record`` for ``topic``; errors surface in :meth:`flush`.

        Encoding and sealing problems raise at once (:class:`~hub.errors.RecordError`,
        :class:`~hub.security.errors.SecurityError`); nothing is queued then.
        """
        value: bytes | None = self.codec.encode(record, topic)
        headers = ce_headers(
            event_id=event_id, source=source, record_type=record.avro_name, time=time
        )
        if protect is not None:
            value, headers = protect(topic, key, value, headers)
        with kafka_errors(f"sending to {topic}"):
            future = self._producer.send(topic, value=value, key=key, headers=headers)
        future.add_callback(self._on_ack)
        future.add_errback(self._on_error)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait for every queued record; PublishError if any was not acknowledged."""
        try:
            with kafka_errors("flushing the producer"):
                self._producer.flush(timeout=timeout_s)
        except HubError as exc:
            raise PublishError(f"records were not acknowledged within {timeout_s:.0f}s") from exc
        with self._lock:
            failed, failures = self._failed, list(self._failures)
            self._failed, self._failures = 0, []
        if failed:
            raise PublishError(
                f"{failed} record(s) were not acknowledged by the broker: " + "; ".join(failures)
            )

    def close(self, timeout_s: float = 10.0) -> None:
        with suppress(KafkaError, OSError):  # closing is best effort
            self._producer.close(timeout=timeout_s)
