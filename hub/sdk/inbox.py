"""Reading a partner's inbox: decoded messages with their position, committed explicitly.

:class:`InboxReader` is a consumer-group member on the inbox topic. Offsets are never
committed automatically: the caller commits a message once it has dealt with it
(:meth:`InboxReader.commit`), so after a restart reading resumes right after the last
committed message of each partition, without gaps.

A record that cannot be decoded does not stop the reader: it comes back as an
:class:`InboxMessage` with ``error`` set and ``record`` None, so the caller can
dead-letter it and move on. With security on, the same holds for a record whose hub
signature does not verify or that does not decrypt (``error`` is then a
:class:`~hub.security.errors.SecurityError`). ``value`` is the plaintext once the record
opened (what ``record`` was decoded from), else the value as it is on the topic;
``disclosure`` what the hub disclosed with a delivery, from inside its envelope. With a
subject key provider, sealed fields are opened; an erasure notice drops the subject's
cached keys at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from hub.config import HubSettings
from hub.errors import HubError
from hub.kafka import consumer, kafka_errors
from hub.sdk.published import header_value
from hub.sdk.security import open_sealed_fields
from hub.security.pipeline import Opened
from hub.security.shredding import FieldSealer
from hub.serde import CloudEvent, SerializationContext
from hub.serde.canonical import CanonicalCodec
from schemas import codec as bare
from schemas.models import CanonicalRecord, DisclosureEvent, ErasureNotice

__all__ = ["InboxMessage", "InboxReader"]


@runtime_checkable
class Forgets(Protocol):
    """A subject key provider with a cache to drop (:class:`CachedSubjectKeys`)."""

    def forget(self, subject: str) -> None: ...


@dataclass(frozen=True)
class InboxMessage:
    """One record of the inbox, decoded, with where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    record: CanonicalRecord | None
    event: CloudEvent | None = None
    error: HubError | None = None
    disclosure: DisclosureEvent | None = None
    """What the hub disclosed with this delivery (purpose, categories, fields, consents),
    from inside its envelope; None for a notice, a tombstone, or without security."""

    @property
    def ok(self) -> bool:
        return self.record is not None and self.error is None

    @property
    def event_id(self) -> str | None:
        """The CloudEvents id, else the record's own ``event_id``."""
        if self.event is not None:
            return self.event.id
        found = header_value(self.headers, "ce_id")
        if found is not None:
            return found
        return getattr(self.record, "event_id", None)

    @property
    def subject(self) -> str:
        """The record key as text (the client pseudonym for person records)."""
        return self.key.decode("utf-8", "replace") if self.key is not None else ""


class InboxReader:
    """A consumer-group member reading ``topic`` and decoding canonical records."""

    def __init__(
        self,
        settings: HubSettings,
        topic: str,
        codec: CanonicalCodec,
        *,
        group_id: str,
        opener: Callable[[Any], Opened] | None = None,
        fields: FieldSealer | None = None,
    ) -> None:
        """``opener``: verifies and decrypts a raw record's value (raises HubError);
        ``fields``: opens sealed special-category fields of decoded records."""
        self.topic = topic
        self.group_id = group_id
        self._codec = codec
        self._opener = opener
        self._fields = fields
        self._consumer: KafkaConsumer = consumer(
            settings,
            group_id=group_id,
            enable_auto_commit=False,
            client_id=f"{settings.client_id}-inbox",
        )
        with kafka_errors(f"subscribing to {topic}"):
            self._consumer.subscribe([topic])

    def _decode(self, raw: Any) -> InboxMessage:
        headers = tuple((str(k), bytes(v or b"")) for k, v in raw.headers or ())
        base: dict[str, Any] = {
            "topic": raw.topic,
            "partition": raw.partition,
            "offset": raw.offset,
            "key": raw.key,
            "value": raw.value,
            "headers": headers,
        }
        ctx = SerializationContext(
            raw.topic, headers=headers, partition=raw.partition, offset=raw.offset
        )
        try:
            event = CloudEvent.from_headers(headers)
        except HubError:
            event = None
        value: bytes | None = raw.value
        disclosure: DisclosureEvent | None = None
        if self._opener is not None:
            try:
                opened = self._opener(raw)
                value = base["value"] = opened.value
                if opened.disclosure is not None:
                    disclosure = bare.decode_as(DisclosureEvent, opened.disclosure)
            except HubError as exc:
                return InboxMessage(**base, record=None, event=event, error=exc)
        if value is None:
            return InboxMessage(**base, record=None, event=event, error=None)
        try:
            record = self._codec.decode(value, ctx)
            if self._fields is not None:
                if isinstance(record, ErasureNotice) and isinstance(self._fields.keys, Forgets):
                    self._fields.keys.forget(str(record.client_pseudonym))
                record = open_sealed_fields(record, self._fields)
        except HubError as exc:
            return InboxMessage(**base, record=None, event=event, error=exc)
        return InboxMessage(**base, record=record, event=event, disclosure=disclosure)

    def poll(self, timeout_s: float = 1.0, max_records: int = 500) -> list[InboxMessage]:
        """The next messages, in offset order per partition (may be empty)."""
        with kafka_errors(f"polling {self.topic}"):
            batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        messages: list[InboxMessage] = []
        for tp in sorted(batches, key=lambda t: t.partition):
            messages.extend(self._decode(raw) for raw in batches[tp])
        return messages

    @property
    def assigned(self) -> bool:
        """True once the group gave this member partitions (the join can take seconds)."""
        return bool(self._consumer.assignment())

    def caught_up(self) -> bool:
        """True when every assigned partition is read up to its fetch high watermark."""
        with kafka_errors(f"reading positions on {self.topic}"):
            assigned = self._consumer.assignment()
            if not assigned:
                return False
            for tp in assigned:
                high = self._consumer.highwater(tp)
                if high is None or self._consumer.position(tp) < high:
                    return False
        return True

    def commit(self, messages: Iterable[InboxMessage]) -> None:
        """Commit past each given message (the highest offset per partition wins)."""
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for message in messages:
            tp = TopicPartition(message.topic, message.partition)
            current = offsets.get(tp)
            if current is None or current.offset <= message.offset:
                offsets[tp] = OffsetAndMetadata(message.offset + 1, "", -1)
        if offsets:
            with kafka_errors(f"committing offsets on {self.topic}"):
                self._consumer.commit(offsets)

    def seek_back(self, message: InboxMessage) -> None:
        """Read ``message`` again on the next poll (its partition rewinds to it)."""
        with kafka_errors(f"seeking on {self.topic}"):
            self._consumer.seek(TopicPartition(message.topic, message.partition), message.offset)

    def close(self) -> None:
        with suppress(KafkaError, OSError):  # closing is best effort
            self._consumer.close()
