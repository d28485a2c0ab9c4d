"""Writing a batch of :class:`~hub.router.processing.Write` s, in two acknowledged phases.

Phase 1 writes everything but the audit: inbox deliveries, notices, tombstones, dead
letters and routing state, each with CloudEvents headers (``ce_id`` = the deterministic
id); a delivery also carries its DisclosureEvent (``rmt-disclosure``, which record
security turns into ``rmt-enc-disclosure`` inside the envelope and the router's sealed
copy ``rmt-hub-disclosure``) and the source event id. Phase 2, only once phase 1 is
acknowledged, writes the DisclosureEvents to the audit topic. So an audit record never
exists without its delivery; a delivery without its audit record (a crash between the
phases) is found in the inbox by the next loader and audited then. The caller
acknowledges the outbox records (and so lets their offsets be committed) only after
:meth:`BatchWriter.write` returns.

Every write goes to an explicit partition, the partition of the record it came from:
all these topics are co-partitioned by client pseudonym.

With record security (:class:`~hub.router.sealing.RouterSecurity`), a record for an
inbox (and a routing-state snapshot) has its special-category fields sealed before it is
encoded, and its value encrypted to the recipient and hub-signed after (the
DisclosureEvent hashes the plaintext value the recipient decrypts); records for the
hub's own topics are hub-signed; audit records are hash-chained per partition (linked in
the order they are sent, which is the order aiokafka keeps per partition).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.router.audit import disclosure_event
from hub.router.codec import DISCLOSURE_HEADER, SOURCE_EVENT_HEADER, RouterCodec
from hub.router.errors import WriteFailed
from hub.router.processing import Write
from hub.router.sealing import RouterSecurity
from hub.router.state import HUB_SOURCE
from hub.security.signing import Verdict
from hub.serde import CloudEvent

__all__ = ["BatchWriter"]


class BatchWriter:
    """Encodes writes and sends them; raises WriteFailed unless all are acknowledged."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        codec: RouterCodec,
        *,
        audit_topic: str,
        clock: Callable[[], datetime],
        ack_timeout_s: float = 30.0,
        security: RouterSecurity | None = None,
    ) -> None:
        self._security = security
        self._producer = producer
        self._codec = codec
        self._audit_topic = audit_topic
        self._clock = clock
        self._ack_timeout_s = ack_timeout_s
        self.written = 0
        self.audited = 0

    async def write(
        self, writes: Sequence[Write], *, origins: Mapping[str, Verdict] | None = None
    ) -> None:
        """``origins``: the accepted verdict of each source event id (origin headers)."""
        if not writes:
            return
        now = self._clock()
        audits: list[Write] = []
        futures = []
        for item in writes:
            value, headers = self._encode(item, now, audits)
            value, headers = self._seal(item, value, headers, origins or {})
            futures.append(await self._send(item, value, headers))
        await self._await(futures)
        self.written += len(writes)
        if audits:
            futures = []
            for item in audits:
                value, headers = self._encode(item, now, [])
                value, headers = self._seal(item, value, headers, {})
                futures.append(await self._send(item, value, headers))
            await self._await(futures)
            self.audited += len(audits)

    def _encode(
        self, item: Write, now: datetime, audits: list[Write]
    ) -> tuple[bytes | None, list[tuple[str, bytes]]]:
        record = item.record
        if record is None:
            event = CloudEvent(
                id=item.event_id,
                source=HUB_SOURCE,
                type=item.record_type or "tombstone",
                time=now,
                datacontenttype=None,
            )
            return None, event.to_headers()
        if self._security is not None:
            record = self._security.seal_fields(record, item.topic)
        value = self._codec.encode(record, item.topic)
        event = CloudEvent(id=item.event_id, source=HUB_SOURCE, type=record.avro_name, time=now)
        headers = event.to_headers()
        if item.delivery is not None:
            disclosure = disclosure_event(
                item.delivery, event_id=item.event_id, inbox_topic=item.topic, value=value, now=now
            )
            headers.append((SOURCE_EVENT_HEADER, item.delivery.source_event_id.encode()))
            headers.append((DISCLOSURE_HEADER, self._codec.encode_disclosure(disclosure)))
            audits.append(
                Write(
                    self._audit_topic,
                    item.partition,
                    item.delivery.subject.encode("utf-8"),
                    disclosure,
                    item.event_id,
                )
            )
        return value, headers

    def _seal(
        self,
        item: Write,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        origins: Mapping[str, Verdict],
    ) -> tuple[bytes | None, list[tuple[str, bytes]]]:
        security = self._security
        if security is None:
            return value, headers
        if item.topic == self._audit_topic:
            return value, security.link_audit(item.partition, item.key, value, headers)
        origin = origins.get(item.delivery.source_event_id) if item.delivery else None
        return security.protect(item.topic, item.key, value, headers, origin)

    async def _send(
        self, item: Write, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[object]:
        try:
            future: asyncio.Future[object] = await self._producer.send(
                item.topic,
                value=value,
                key=item.key,
                partition=item.partition,
                headers=headers,
            )
        except KafkaError as exc:
            raise WriteFailed(f"sending to {item.topic}: {type(exc).__name__}: {exc}") from exc
        return future

    async def _await(self, futures: list[asyncio.Future[object]]) -> None:
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                results = await asyncio.gather(*futures, return_exceptions=True)
        except TimeoutError as exc:
            raise WriteFailed(
                f"{len(futures)} write(s) not acknowledged within {self._ack_timeout_s:.0f}s"
            ) from exc
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            first = failures[0]
            raise WriteFailed(
                f"{len(failures)} of {len(futures)} write(s) failed: "
                f"{type(first).__name__}: {first}"
            )
