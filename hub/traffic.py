"""Live traffic figures: records published, delivered and dead-lettered per partner, and
the router's consumer lag. Used by the terminal view of ``rmt-hub up``.

A :class:`TrafficCounter` reads the outbox, inbox and dead-letter topics from the start,
without a consumer group, and counts what it sees (exact, where the embedded broker's
end offsets are not). Lag is the router group's committed offsets against the high
watermarks the counter's fetches report.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from kafka import TopicPartition
from kafka.errors import KafkaError

from hub.config import HubSettings
from hub.errors import HubError
from hub.kafka import admin_client, consumer, kafka_errors
from hub.serde import SerializationContext
from hub.serde.canonical import CanonicalCodec
from schemas.models import DeadLetter, ErasureNotice, RejectionNotice
from topics.catalogue import TopicCatalogue

__all__ = ["PartnerTraffic", "TrafficCounter", "TrafficSnapshot"]

_NOTICE_TYPES = frozenset({RejectionNotice.avro_name, ErasureNotice.avro_name})


@dataclass(frozen=True)
class PartnerTraffic:
    partner: str
    published: int
    delivered: int
    notices: int
    dead_lettered: int


@dataclass(frozen=True)
class TrafficSnapshot:
    partners: tuple[PartnerTraffic, ...]
    router_lag: int | None
    totals: dict[str, int] = field(default_factory=dict)


class TrafficCounter:
    """Counts records per partner in a background thread; :meth:`snapshot` reads them."""

    def __init__(
        self,
        settings: HubSettings,
        catalogue: TopicCatalogue,
        codec: CanonicalCodec,
        partners: list[str],
        *,
        router_group: str | None = None,
    ) -> None:
        self._settings = settings
        self._codec = codec
        self._partners = partners
        self._router_group = router_group or f"{settings.topic_prefix}-router"
        self._outbox = {catalogue.outbox(p).name: p for p in partners}
        self._inbox = {catalogue.inbox(p).name: p for p in partners}
        self._dead_letter = catalogue.dead_letter.name
        self._counts: Counter[tuple[str, str]] = Counter()
        self._highwater: dict[TopicPartition, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        self.error: HubError | None = None

    def start(self) -> TrafficCounter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def restart(self) -> TrafficCounter:
        """Count again from what the topics hold now (after the broker lost its data)."""
        self.stop()
        with self._lock:
            self._counts.clear()
            self._highwater.clear()
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        return self.start()

    def _run(self) -> None:
        try:
            self._follow()
        except HubError as exc:  # shown in the view instead of killing it
            self.error = exc

    def _follow(self) -> None:
        topics = [*self._outbox, *self._inbox, self._dead_letter]
        reader = consumer(self._settings, group_id=None)
        try:
            with kafka_errors("following the hub's topics"):
                assigned = [
                    TopicPartition(topic, p)
                    for topic in topics
                    for p in sorted(reader.partitions_for_topic(topic) or ())
                ]
                reader.assign(assigned)
                reader.seek_to_beginning()
                while not self._stop.is_set():
                    for tp, records in reader.poll(timeout_ms=250).items():
                        self._count(tp.topic, records)
                    with self._lock:
                        for tp in assigned:
                            high = reader.highwater(tp)
                            if high is not None:
                                self._highwater[tp] = high
        finally:
            reader.close()

    def _count(self, topic: str, records: list[object]) -> None:
        updates: Counter[tuple[str, str]] = Counter()
        for record in records:
            value = getattr(record, "value", None)
            if topic in self._outbox:
                updates[(self._outbox[topic], "published")] += 1
            elif topic in self._inbox and value is not None:
                kind = self._inbox_kind(record)
                updates[(self._inbox[topic], kind)] += 1
            elif topic == self._dead_letter and value is not None:
                partner = self._dead_letter_partner(record, topic)
                updates[(partner, "dead_lettered")] += 1
        with self._lock:
            self._counts.update(updates)

    def _decode(self, record: object, topic: str) -> object:
        ctx = SerializationContext(
            topic,
            headers=getattr(record, "headers", None),
            partition=getattr(record, "partition", None),
            offset=getattr(record, "offset", None),
        )
        value = getattr(record, "value", b"") or b""
        try:
            return self._codec.decode(value, ctx)
        except HubError:
            return None

    @staticmethod
    def _inbox_kind(record: object) -> str:
        """Notice or delivery, from the CloudEvents type (inbox values are encrypted)."""
        headers = dict(getattr(record, "headers", None) or [])
        record_type = headers.get("ce_type", b"").decode("utf-8", "replace")
        return "notices" if record_type in _NOTICE_TYPES else "delivered"

    def _dead_letter_partner(self, record: object, topic: str) -> str:
        decoded = self._decode(record, topic)
        if isinstance(decoded, DeadLetter) and decoded.source_partner:
            return decoded.source_partner
        return "?"

    def _router_lag(self) -> int | None:
        try:
            admin = admin_client(self._settings)
        except HubError:
            return None
        try:
            result = admin.list_group_offsets({self._router_group: None})
        except KafkaError:  # informative only: a broker hiccup must not stop the view
            return None
        finally:
            admin.close()
        committed = result.get(self._router_group, {})
        lag = 0
        with self._lock:
            for tp, high in self._highwater.items():
                if tp.topic in self._outbox:
                    done = committed.get(tp)
                    offset = getattr(done, "offset", done) if done is not None else 0
                    lag += max(0, high - int(offset or 0))
        return lag

    def snapshot(self, *, with_lag: bool = True) -> TrafficSnapshot:
        """The figures so far (lag asks the broker for the router's committed offsets)."""
        lag = self._router_lag() if with_lag else None
        with self._lock:
            counts = dict(self._counts)
        rows = tuple(
            PartnerTraffic(
                partner=p,
                published=counts.get((p, "published"), 0),
                delivered=counts.get((p, "delivered"), 0),
                notices=counts.get((p, "notices"), 0),
                dead_lettered=counts.get((p, "dead_lettered"), 0),
            )
            for p in self._partners
        )
        totals = {
            "published": sum(r.published for r in rows),
            "delivered": sum(r.delivered for r in rows),
            "notices": sum(r.notices for r in rows),
            "dead_lettered": sum(r.dead_lettered for r in rows)
            + counts.get(("?", "dead_lettered"), 0),
        }
        return TrafficSnapshot(rows, lag, totals)
