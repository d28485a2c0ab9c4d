"""A hub for router tests: its own topic prefix on the session broker, publishing as
partners and as the consent service do, and reading what the router wrote.

With record security on (the default), the hub's key store holds a key for every partner
of the directory (as ``rmt-hub up`` makes it): :meth:`Hub.publish` encrypts to the hub
and signs as the outbox's owner, like the SDK, consent changes are signed and chained as
the consent service's relay does (:meth:`Hub.grant`, :meth:`Hub.withdraw`), and
:meth:`Hub.read` verifies, decrypts (with the key of the inbox's partner) and opens
sealed special-category fields (with the hub's subject keys), so tests see plaintext
records; ``Received.raw`` is the value as it is on the topic.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer, TopicPartition

from consent.model import ConsentChangeMessage, Recipient
from consent.outbox import avro_encoder, partition_for, wire_encoder
from consent.subject_keys import subject_key_store
from hub.config import HubSettings
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.kafka import admin_client, consumer, producer
from hub.registry import client_for
from hub.router.codec import RouterCodec
from hub.router.options import RouterOptions
from hub.router.runtime import RouterProcess
from hub.sdk.security import open_sealed_fields
from hub.security.config import ensure_keys, partner_key_store, security_enabled
from hub.security.consent_feed import CONSENT_SERVICE_ID, ConsentFeedSigner
from hub.security.envelope import EnvelopeDecryptor, is_encrypted
from hub.security.errors import EnvelopeError
from hub.security.headers import ENC_KEY
from hub.security.keys import KeyStore
from hub.security.pipeline import PartnerSecurity
from hub.security.shredding import FieldSealer, SubjectKeyStore
from hub.serde import SerializationContext, ce_headers
from schemas.models import CanonicalRecord, ConsentChange, PersonRecord, StaffSurplus, Vacancy
from schemas.models.enums import ConsentChangeType, LegalBasis
from schemas.vocabulary import SPECIAL_CATEGORIES, DataCategory, PartnerKind, Purpose
from topics import apply_to_cluster, build_catalogue, load_partners
from topics.catalogue import TopicCatalogue

__all__ = ["Hub", "Publication", "Received", "delivered_ids", "new_id"]


def new_id() -> EventId:
    return EventId(str(uuid.uuid4()))


@dataclass(frozen=True)
class Received:
    """A record read back from a topic, decoded."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    record: CanonicalRecord | None
    raw: bytes | None = None
    """The value as it is on the topic (ciphertext when encrypted)."""

    @property
    def ce_id(self) -> str:
        return self.headers["ce_id"].decode()


@dataclass(frozen=True)
class Publication:
    """One record for :meth:`Hub.publish_many`, with :meth:`Hub.publish`'s overrides."""

    record: CanonicalRecord
    partner: str | None = None
    key: bytes | str | None = "natural"
    value: bytes | None = None


@dataclass
class Hub:
    """Topics under a unique prefix, and helpers to act as partners and consent service."""

    settings: HubSettings
    tmp: Path
    catalogue: TopicCatalogue = field(init=False)
    codec: RouterCodec = field(init=False)
    workers: list[RouterProcess] = field(default_factory=list)
    consent_encoding: str = "wire"
    """How consent changes are encoded: "wire" (Confluent) or "bare" (bare Avro)."""
    _producer: KafkaProducer | None = None
    _bulk_producer: KafkaProducer | None = None
    _consent_producer: KafkaProducer | None = None
    security: bool = field(init=False)
    keys: KeyStore = field(init=False)
    _partners: dict[str, PartnerSecurity] = field(default_factory=dict)
    _subject_keys: SubjectKeyStore | None = None
    _chain: dict[str, str] = field(default_factory=dict)
    """subject -> record_hash of its last consent change sent (the feed's chain)."""

    def __post_init__(self) -> None:
        self.catalogue = build_catalogue(self.settings)
        self.codec = RouterCodec(client_for(self.settings))
        self.security = security_enabled(self.settings)
        self.keys = partner_key_store(self.settings)
        if self.security:
            ensure_keys(self.settings, load_partners(self.settings.partners_file))
        apply_to_cluster(self.settings, self.catalogue)

    # --- workers ----------------------------------------------------------------------------------

    def worker(self, name: str = "w1", **options: Any) -> RouterProcess:
        """A started router worker subprocess (stopped by :meth:`close`)."""
        opts = RouterOptions.for_embedded_broker(
            **{"metrics_port": 0}  # a free port: workers of a test never collide on 9102
            | options
            | {"status_file": self.tmp / f"{name}.status.json", "log_level": "INFO"}
        )
        process = RouterProcess(self.settings, opts, log_file=self.tmp / f"{name}.log")
        self.workers.append(process.start())
        return process

    def close(self) -> None:
        for process in self.workers:
            process.stop()
        for prod in (self._producer, self._bulk_producer, self._consent_producer):
            if prod is not None:
                prod.close(timeout=5)
        if self._subject_keys is not None:
            self._subject_keys.close()
        self.codec.registry.close()
        admin = admin_client(self.settings)
        try:
            admin.delete_topics(self.catalogue.names())
        except Exception:
            pass
        finally:
            admin.close()

    # --- partners ---------------------------------------------------------------------------------

    def partner(self, partner_id: str) -> PartnerSecurity:
        """``partner_id``'s side of record security (its keys from the hub's key store)."""
        found = self._partners.get(partner_id)
        if found is None:
            found = self._partners[partner_id] = PartnerSecurity.from_store(self.keys, partner_id)
        return found

    def publish_raw(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        partition: int | None = None,
    ) -> None:
        """Produce exactly these bytes (no encoding, no sealing); waits for the ack."""
        if self._producer is None:
            self._producer = producer(self.settings, linger_ms=0)
        self._producer.send(topic, key=key, value=value, headers=headers, partition=partition).get(
            timeout=15
        )

    def publish(
        self,
        record: CanonicalRecord,
        *,
        partner: str | None = None,
        key: bytes | str | None = "natural",
        partition: int | None = None,
        value: bytes | None = None,
    ) -> None:
        """Publish ``record`` to the outbox of ``partner`` (default: its source_partner)
        like the SDK: wire format, CloudEvents headers, murmur2 partitioner; waits for the ack."""
        if self._producer is None:
            self._producer = producer(self.settings, linger_ms=0)
        topic, key_bytes, sent, headers = self._outgoing(
            Publication(record, partner=partner, key=key, value=value)
        )
        self._producer.send(
            topic, key=key_bytes, value=sent, headers=headers, partition=partition
        ).get(timeout=15)

    def publish_many(self, items: Iterable[CanonicalRecord | Publication]) -> int:
        """Publish every item as :meth:`publish` does, without waiting for each ack: sends
        all (batched, in order per partition), then flushes and checks that every send was
        acknowledged. Returns how many were published."""
        if self._bulk_producer is None:
            self._bulk_producer = producer(
                self.settings,
                linger_ms=5,
                batch_size=256 * 1024,
                max_in_flight_requests_per_connection=1,  # retries keep the order
                enable_idempotence=True,  # like the SDK: a retry after a leader change
            )
        futures = []
        for item in items:
            topic, key, sent, headers = self._outgoing(
                item if isinstance(item, Publication) else Publication(item)
            )
            futures.append(self._bulk_producer.send(topic, key=key, value=sent, headers=headers))
        self._bulk_producer.flush(timeout=120)
        for future in futures:
            future.get(timeout=15)  # raises the send's error, if it failed
        return len(futures)

    def _outgoing(
        self, item: Publication
    ) -> tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]:
        """(topic, key, value, headers) of publishing ``item`` like the SDK."""
        record, key = item.record, item.key
        source = item.partner or str(getattr(record, "source_partner", ""))
        topic = self.catalogue.outbox(source).name
        if key == "natural":
            if isinstance(record, PersonRecord):
                key = record.client_pseudonym.encode()
            elif isinstance(record, Vacancy):
                key = record.vacancy_id.encode()
            elif isinstance(record, StaffSurplus):
                key = record.surplus_id.encode()
            else:
                key = None
        assert not isinstance(key, str)
        data = item.value if item.value is not None else self.codec.encode(record, topic)
        headers = ce_headers(
            event_id=str(getattr(record, "event_id", new_id())),
            source=source,
            record_type=record.avro_name,
            time=datetime.now(UTC),
        )
        sent: bytes | None = data
        if self.security:
            sent, headers = self.partner(source).seal_outbound(
                topic=topic, key=key, value=data, headers=headers
            )
        return topic, key, sent, headers

    # --- the consent service ----------------------------------------------------------------------

    def _send_change(self, message: ConsentChangeMessage) -> None:
        """Exactly as consent.outbox.OutboxRelay publishes: explicit murmur2 partition, one
        record per request, idempotent producer, wait for the acknowledgement; CloudEvents
        headers and, with record security, signed by the consent service and chained to
        the subject's previous change."""
        if self._consent_producer is None:
            self._consent_producer = producer(self.settings, enable_idempotence=True, linger_ms=0)
        topic = self.catalogue.consent_changes.name
        key = message.subject_pseudonym.encode()
        value = self.encode_change(message)
        source = CONSENT_SERVICE_ID if self.security else message.source_partner
        headers = ce_headers(
            event_id=message.event_id,
            source=source,
            record_type=ConsentChange.avro_name,
            time=message.occurred_at,
        )
        if self.security:
            signer = ConsentFeedSigner(self.keys.private(CONSENT_SERVICE_ID))
            headers = signer.sign(
                topic=topic,
                key=key,
                value=value,
                headers=headers,
                previous=self._chain.get(message.subject_pseudonym),
            )
        self._consent_producer.send(
            topic,
            key=key,
            value=value,
            headers=headers,
            partition=partition_for(key, self.settings.topic_partitions),
        ).get(timeout=15)
        self._chain[message.subject_pseudonym] = message.record_hash

    def encode_change(self, message: ConsentChangeMessage) -> bytes:
        """The value of a consent change, as ``consent_encoding`` says."""
        topic = self.catalogue.consent_changes.name
        if self.consent_encoding == "bare":
            return avro_encoder(message)
        return wire_encoder(self.codec, topic)(message)

    def grant(
        self,
        subject: str,
        *,
        to: Iterable[str | PartnerKind],
        purposes: Iterable[Purpose],
        categories: Iterable[DataCategory],
        controller: str = "uwv",
        valid_days: int = 365,
        valid_until: datetime | None = None,
    ) -> ConsentChangeMessage:
        """Give a consent; returns once the change is acknowledged. It ends after
        ``valid_days``, or at ``valid_until`` when given (no change is published then)."""
        now = datetime.now(UTC)
        cats = tuple(categories)
        recipients = tuple(
            Recipient(partner_kind=r) if isinstance(r, PartnerKind) else Recipient(partner_id=r)
            for r in to
        )
        message = ConsentChangeMessage(
            event_id=new_id(),
            occurred_at=now,
            source_partner="hub",
            consent_id=ConsentId(f"cns-{uuid.uuid4().hex[:12]}"),
            subject_pseudonym=ClientPseudonym(subject),
            change=ConsentChangeType.GIVEN,
            controller=PartnerId(controller),
            recipients=recipients,
            purposes=tuple(purposes),
            data_categories=cats,
            legal_basis=(
                LegalBasis.EXPLICIT_CONSENT
                if SPECIAL_CATEGORIES.intersection(cats)
                else LegalBasis.CONSENT
            ),
            valid_from=now - timedelta(minutes=1),
            valid_until=valid_until or now + timedelta(days=valid_days),
            actor="test",
            recorded_at=now,
            record_hash=uuid.uuid4().hex * 2,
        )
        self._send_change(message)
        return message

    def withdraw(self, given: ConsentChangeMessage) -> ConsentChangeMessage:
        """Withdraw; returns once the change is acknowledged (= reported done)."""
        now = datetime.now(UTC)
        message = given.model_copy(
            update={
                "event_id": new_id(),
                "change": ConsentChangeType.WITHDRAWN,
                "occurred_at": now,
                "recorded_at": now,
                "record_hash": uuid.uuid4().hex * 2,
            }
        )
        self._send_change(message)
        return message

    # --- reading back -----------------------------------------------------------------------------

    def read(
        self, topic: str, *, decode: bool = True, timeout_s: float | None = None
    ) -> list[Received]:
        """Every record of ``topic``, all partitions, up to the fetch high watermark.

        Without ``timeout_s``, what was read in 20 s (the end, unless the topic is big);
        with it, AssertionError when the end is not reached in that time (for big topics:
        a partial read must never pass for the whole topic)."""
        reader = consumer(self.settings, group_id=None, fetch_max_wait_ms=50)
        try:
            parts = reader.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            out: list[Received] = []
            remaining = set(tps)
            deadline = time.monotonic() + (timeout_s or 20)
            while remaining:
                if time.monotonic() > deadline:
                    if timeout_s is None:
                        break
                    raise AssertionError(
                        f"{topic}: not read to the end within {timeout_s:.0f}s ({len(out)} read)"
                    )
                for batch in reader.poll(timeout_ms=100).values():
                    for r in batch:
                        out.append(self._received(r, decode))
                for tp in list(remaining):
                    high = reader.highwater(tp)
                    if high is not None and reader.position(tp) >= high:
                        remaining.discard(tp)
            return sorted(out, key=lambda r: (r.partition, r.offset))
        finally:
            reader.close()

    def _received(self, raw: Any, decode: bool) -> Received:
        headers = {k: bytes(v) for k, v in raw.headers or ()}
        value = raw.value
        if self.security and value is not None and is_encrypted(list(headers.items())):
            value = self.open(raw)
        record = None
        if decode and value is not None:
            ctx = SerializationContext(raw.topic, partition=raw.partition, offset=raw.offset)
            record = self.codec.decode(value, ctx)
            if getattr(record, "sealed_fields", None):
                record = open_sealed_fields(record, FieldSealer(self.subject_keys()))
        return Received(
            raw.topic, raw.partition, raw.offset, raw.key, value, headers, record, raw.value
        )

    def open(self, raw: Any) -> bytes | None:
        """The plaintext of an encrypted record, decrypted with its recipient's key; on an
        inbox the hub's signature must verify (InboundRejected otherwise)."""
        headers = [(str(k), bytes(v)) for k, v in raw.headers or ()]
        recipient = self.keys.directory().get(dict(headers)[ENC_KEY].decode()).partner_id
        if recipient == "hub":  # an outbox record, read back by a test (None if tampered)
            try:
                return EnvelopeDecryptor(self.keys.private_keys(recipient)).decrypt(
                    topic=raw.topic, key=raw.key, value=raw.value, headers=headers
                )
            except EnvelopeError:
                return None
        opened = self.partner(recipient).open_inbound(
            topic=raw.topic, key=raw.key, value=raw.value, headers=headers
        )
        return opened.value

    def subject_keys(self) -> SubjectKeyStore:
        """The hub's subject key store (the router's: the consent database of the data dir)."""
        if self._subject_keys is None:
            self._subject_keys = subject_key_store(self.settings, cache_ttl_s=0.0)
        return self._subject_keys

    def inbox(self, partner: str, *, timeout_s: float | None = None) -> list[Received]:
        return self.read(self.catalogue.inbox(partner).name, timeout_s=timeout_s)

    def dead_letters(self, *, timeout_s: float | None = None) -> list[Received]:
        return self.read(self.catalogue.dead_letter.name, timeout_s=timeout_s)

    def audit(self, *, timeout_s: float | None = None) -> list[Received]:
        return self.read(self.catalogue.disclosures.name, timeout_s=timeout_s)

    def wait_for(
        self,
        read: Callable[[], list[Received]],
        predicate: Callable[[list[Received]], bool],
        *,
        timeout_s: float = 30.0,
        what: str = "records",
    ) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        found: list[Received] = []
        while time.monotonic() < deadline:
            found = read()
            if predicate(found):
                return found
            for process in self.workers:
                if process.pid is not None and process.returncode not in (None, -9):
                    log = process.log_file.read_text() if process.log_file else ""
                    raise AssertionError(f"router worker died:\n{log[-3000:]}")
            time.sleep(0.2)
        logs = "\n".join(
            p.log_file.read_text()[-2000:]
            for p in self.workers
            if p.log_file and p.log_file.exists()
        )
        statuses = "\n".join(f"worker {p.pid}: {_brief(p.status())}" for p in self.workers)
        raise AssertionError(
            f"timed out waiting for {what}; last read {len(found)}\n{statuses}\n{logs}"
        )

    def wait_dead_letter(self, event_id: str, timeout_s: float = 30.0) -> Received:
        found = self.wait_for(
            self.dead_letters,
            lambda rs: any(getattr(r.record, "event_id", None) == event_id for r in rs),
            timeout_s=timeout_s,
            what=f"dead letter of {event_id}",
        )
        return next(r for r in found if getattr(r.record, "event_id", None) == event_id)


def delivered_ids(records: Iterable[Received]) -> list[str]:
    """Source event ids of the person and business records in an inbox (duplicates kept)."""
    business = (Vacancy, StaffSurplus)
    return [
        str(r.record.event_id) for r in records if isinstance(r.record, (PersonRecord, *business))
    ]


def _brief(status: dict[str, Any] | None) -> str:
    """A worker's status without its consent tables (what a failure message needs)."""
    return json.dumps({k: v for k, v in (status or {}).items() if k != "consents"})
