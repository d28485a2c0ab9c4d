"""The delivery loop: a partner's inbox -> a sink, resuming without gaps or duplicates.

::

    poll -> for each message, in offset order per partition:
              tombstone          -> skipped (compaction's business; the ErasureNotice
                                    before it is what tells the partner), handled
              undecodable        -> dead letter (DECODE_ERROR), handled
              event id in ledger -> skipped (a duplicate), handled
              sink.write         -> durable now (webhook) or once its file rotates
              sink gave up       -> dead letter (OTHER), handled
         -> ledger records what became durable (or was dead-lettered)
         -> commit, per partition, up to the first message that is not handled yet

Offsets are committed only past messages that are durably delivered, dead-lettered or
skipped, and never past an earlier message still buffered in a file part, so a restart
resumes at the first message not yet delivered (no gaps); the ledger skips what was
delivered but not yet committed when the process stopped (no duplicates).

The consumer group is ``<prefix>.deliver.<partner>.<sink name>``: one per target, so a
partner can have a file drop and a webhook side by side. Run one deliverer per target;
a second member of the same group would take over partitions, and records buffered in
the first one's open file part would then be delivered by both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from connectors.delivery.ledger import DeliveryLedger
from connectors.delivery.sink import Delivered, DeliveryFailed, DeliveryInterrupted, Sink
from hub.config import HubSettings
from hub.errors import HubError
from hub.ids import EventId
from hub.sdk import InboxMessage, PartnerClient
from schemas.models import DeadLetter
from schemas.models.enums import DeadLetterReason

__all__ = ["Deliverer", "DeliveryStats", "delivery_group", "ledger_path"]

_LOG = logging.getLogger(__name__)


def delivery_group(settings: HubSettings, partner_id: str, sink: Sink) -> str:
    """The consumer group of ``partner_id``'s deliveries to ``sink``."""
    return f"{settings.topic_prefix}.deliver.{partner_id}.{sink.name}"


def ledger_path(settings: HubSettings, partner_id: str, sink: Sink) -> Path:
    """Where the ledger of ``partner_id``'s deliveries to ``sink`` lives (in data_dir)."""
    return settings.data_dir / "delivery" / f"{partner_id}.{sink.name}.sqlite3"


@dataclass
class DeliveryStats:
    """What a run did."""

    delivered: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    tombstones: int = 0
    files: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def handled(self) -> int:
        return self.delivered + self.duplicates + self.dead_lettered + self.tombstones

    def summary(self) -> str:
        files = f", {len(self.files)} file(s)" if self.files else ""
        return (
            f"{self.delivered} delivered, {self.duplicates} duplicate(s) skipped, "
            f"{self.dead_lettered} dead-lettered{files}"
        )


class _Offsets:
    """Per partition, the messages in flight; commits up to the first unhandled one."""

    def __init__(self) -> None:
        self._flight: dict[int, deque[InboxMessage]] = {}
        self._done: set[tuple[int, int]] = set()

    def track(self, message: InboxMessage) -> None:
        flight = self._flight.setdefault(message.partition, deque())
        # a rebalance or seek re-reads a partition: forget what will come again
        while flight and flight[-1].offset >= message.offset:
            gone = flight.pop()
            self._done.discard((message.partition, gone.offset))
        flight.append(message)

    def handled(self, message: InboxMessage) -> None:
        self._done.add((message.partition, message.offset))

    def committable(self) -> list[InboxMessage]:
        """The last message of each partition's handled prefix (those leave the flight)."""
        ready: list[InboxMessage] = []
        for partition, flight in self._flight.items():
            last: InboxMessage | None = None
            while flight and (partition, flight[0].offset) in self._done:
                last = flight.popleft()
                self._done.discard((partition, last.offset))
            if last is not None:
                ready.append(last)
        return ready


class Deliverer:
    """Delivers ``client``'s inbox to ``sink`` (the client's group must be the sink's)."""

    def __init__(
        self,
        client: PartnerClient,
        sink: Sink,
        ledger: DeliveryLedger,
        *,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.sink = sink
        self.ledger = ledger
        self.stop = stop or threading.Event()
        self.stats = DeliveryStats()
        self._offsets = _Offsets()
        self._pending: set[str] = set()
        self._recovered = False

    # --- outcomes ------------------------------------------------------------------------

    def _commit(self) -> None:
        ready = self._offsets.committable()
        if not ready:
            return
        try:
            self.client.commit(*ready)
        except HubError as exc:  # the ledger keeps the next run from delivering twice
            _LOG.warning("delivery to %s: commit failed: %s", self.sink.name, exc)

    def _durable(self, delivered: Delivered) -> None:
        if not delivered.messages:
            return
        if not delivered.files:  # a file drop recorded its files itself (write-ahead)
            self.ledger.mark(m.event_id for m in delivered.messages if m.event_id)
        for message in delivered.messages:
            self._offsets.handled(message)
            if message.event_id:
                self._pending.discard(message.event_id)
        self.stats.delivered += len(delivered.messages)
        self.stats.files += list(delivered.files)
        self._commit()

    def _dead_letter(self, message: InboxMessage, reason: DeadLetterReason, text: str) -> None:
        record = message.record
        letter = DeadLetter(
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            source_partner=getattr(record, "source_partner", None),
            record_type=record.avro_name if record is not None else None,
            original_key=message.key,
            original_value=message.value,
            reason=reason,
            message=text,
            field=None,
            event_id=EventId(message.event_id) if message.event_id else None,
            failed_at=datetime.now(UTC),
        )
        event_id = self.client.dead_letter_id(
            "deliver", self.sink.name, message.topic, str(message.partition), str(message.offset)
        )
        self.client.publish_dead_letter(letter, event_id=event_id, key=message.key)
        self.client.flush()
        if message.event_id:
            self.ledger.mark([message.event_id], outcome="dead-lettered")
        self.stats.dead_lettered += 1
        _LOG.warning(
            "delivery to %s: %s/%d/%d dead-lettered: %s",
            self.sink.name,
            message.topic,
            message.partition,
            message.offset,
            text,
        )

    # --- the loop ----------------------------------------------------------------------------

    def _handle(self, message: InboxMessage) -> None:
        self._offsets.track(message)
        event_id = message.event_id
        if message.value is None:
            self.stats.tombstones += 1
            self._offsets.handled(message)
            return
        if message.error is not None or message.record is None:
            why = str(message.error) if message.error else "the value decodes to no record"
            self._dead_letter(message, DeadLetterReason.DECODE_ERROR, why)
            self._offsets.handled(message)
            return
        if event_id and (event_id in self._pending or self.ledger.seen(event_id)):
            self.stats.duplicates += 1
            self._offsets.handled(message)
            return
        try:
            delivered = self.sink.write(message)
        except DeliveryFailed as exc:
            self._dead_letter(message, DeadLetterReason.OTHER, str(exc))
            self._offsets.handled(message)
            return
        if event_id:
            self._pending.add(event_id)
        self._durable(delivered)

    def run_once(self, timeout_s: float = 0.5) -> int:
        """One poll and its messages; returns how many messages came."""
        if not self._recovered:
            self.sink.recover(self.ledger)
            self._recovered = True
        messages = self.client.poll(timeout_s=timeout_s)
        for message in messages:
            if self.stop.is_set():
                break
            self._handle(message)
        if self.sink.due():
            self._durable(self.sink.flush())
        self._commit()
        return len(messages)

    def run(self, *, idle_exit_s: float | None = None) -> DeliveryStats:
        """Deliver until ``stop`` is set; then flush what is buffered.

        With ``idle_exit_s`` it also ends once the inbox is drained: every assigned
        partition read to its high watermark, or nothing came for ``idle_exit_s`` seconds
        (counted from the group's assignment, so a slow join does not end it early). On
        the way out the open file parts are flushed and committed, so a graceful stop
        loses and repeats nothing.
        """
        idle_since: float | None = None
        try:
            while not self.stop.is_set():
                if self.run_once():
                    idle_since = None
                    continue
                if idle_exit_s is None or not self.client.assigned:
                    continue
                if self.client.caught_up():
                    break
                now = time.monotonic()
                if idle_since is None:
                    idle_since = now
                elif now - idle_since >= idle_exit_s:
                    break
            self._durable(self.sink.flush())
            self._commit()
        except DeliveryInterrupted:
            _LOG.info("delivery to %s interrupted; resumes from the last commit", self.sink.name)
        return self.stats

    def close(self) -> None:
        """Close the sink (unflushed parts are dropped and read again next time)."""
        self.sink.close()
