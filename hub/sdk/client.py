"""The partner SDK: publish canonical records as a partner, read the partner's inbox.

::

    with PartnerClient(settings, "gemeente-amsterdam") as client:
        profile = client.stamp(profile)            # deterministic event id
        client.publish(profile)                    # to rmt.partner.gemeente-amsterdam.outbox
        client.flush()                             # wait for the broker's acknowledgement
        for message in client.subscribe():         # the inbox, as a consumer group
            handle(message.record)
            client.commit(message)

The identity is a partner id from the partner directory; it decides the outbox the
client writes, the inbox it reads, and the ``ce_source`` of every record. Values are
Avro in the Confluent wire format (schemas registered under the record's fullname in the
registry at ``HUB_SCHEMA_REGISTRY_URL`` or the URL given), with CloudEvents headers.

De-duplication: with ``dedupe`` (the default) the client reads its outbox once, up to
the fetch high watermark, before its first publish, and never publishes an event id that
is already there (or that it published itself since). Together with deterministic event
ids (:mod:`hub.sdk.event_ids`) re-importing the same data publishes nothing new.

Security (on by default, :mod:`hub.sdk.security`): what the client publishes to its
outbox is encrypted to the hub's key and signed with the partner's key; inbox records
are verified against the hub's signature and decrypted before decoding. The partner's
keys come from the key store (``keys_dir``, else ``data_dir/keys``). The special-category
fields the hub sealed per subject open with the subject keys the consent service grants
while a consent entitles the partner (``subject_keys``, by default from
``HUB_CONSENT_URL`` and ``HUB_CONSENT_API_KEY``: :mod:`hub.sdk.subject_keys`); an inbox
message also carries what the hub disclosed with it (``disclosure``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import TypeVar

from hub.config import HubSettings
from hub.ids import ClientPseudonym, EventId, PartnerId
from hub.registry import RegistryClient, client_for
from hub.sdk.errors import ForeignRecordError, NotPublishableError, UnknownPartnerError
from hub.sdk.event_ids import derive_event_id, event_id_for, with_event_id
from hub.sdk.inbox import InboxMessage, InboxReader
from hub.sdk.pseudonym import Pseudonymiser, pseudonym_key
from hub.sdk.published import published_event_ids
from hub.sdk.security import opener, partner_security, sealer, signer
from hub.sdk.subject_keys import consent_subject_keys
from hub.sdk.writer import RecordWriter
from hub.security.config import security_enabled
from hub.security.pipeline import PartnerSecurity
from hub.security.shredding import CachedSubjectKeys, FieldSealer, SubjectKeyProvider
from hub.serde.canonical import CanonicalCodec, record_key
from schemas.models import DeadLetter, Envelope
from topics import Partner, PartnerDirectory, build_catalogue, load_partners

__all__ = ["PartnerClient", "PublishOutcome", "PublishResult"]


class PublishOutcome(StrEnum):
    PUBLISHED = "published"
    DUPLICATE = "duplicate"  # the event id is already on the topic: nothing was sent


@dataclass(frozen=True)
class PublishResult:
    event_id: str
    outcome: PublishOutcome

    @property
    def published(self) -> bool:
        return self.outcome is PublishOutcome.PUBLISHED


E = TypeVar("E", bound=Envelope)


class PartnerClient:
    """A partner's connection to the hub; thread-safe for publishing; close it."""

    def __init__(
        self,
        settings: HubSettings,
        partner_id: str,
        *,
        registry: RegistryClient | None = None,
        registry_url: str | None = None,
        partners: PartnerDirectory | None = None,
        dedupe: bool = True,
        group_id: str | None = None,
        security: bool | None = None,
        subject_keys: SubjectKeyProvider | None = None,
    ) -> None:
        """``security``: sign and encrypt (default: the ``HUB_SECURITY_ENABLED`` switch);
        ``subject_keys``: open sealed special-category fields of inbox records with them
        (default, with security on: the consent service's grants when ``HUB_CONSENT_URL``
        and ``HUB_CONSENT_API_KEY`` are set, :func:`hub.sdk.subject_keys.consent_subject_keys`;
        else the fields stay sealed)."""
        directory = partners if partners is not None else load_partners(settings.partners_file)
        try:
            self.partner: Partner = directory.get(partner_id)
        except KeyError:
            raise UnknownPartnerError(
                f"'{partner_id}' is not in the partner directory "
                f"({', '.join(p.id for p in directory)})"
            ) from None
        self.settings = settings
        catalogue = build_catalogue(settings, directory)
        outbox = catalogue.outbox(partner_id)
        self.outbox = outbox.name
        self.inbox = catalogue.inbox(partner_id).name
        self.dead_letter_topic = catalogue.dead_letter.name
        self._publishable = frozenset(outbox.value_schemas)
        self._own_registry = registry is None
        self.registry = registry if registry is not None else client_for(settings, registry_url)
        self.codec = CanonicalCodec(self.registry)
        self.pseudonymise = Pseudonymiser(pseudonym_key(settings))
        self.dedupe = dedupe
        self.group_id = group_id or f"{settings.topic_prefix}.sdk.{partner_id}"
        self.security: PartnerSecurity | None = None
        if security_enabled(settings) if security is None else security:
            self.security = partner_security(settings, partner_id)
        self._own_keys: CachedSubjectKeys | None = None
        if subject_keys is None and self.security is not None:
            subject_keys = self._own_keys = consent_subject_keys(settings, partner_id)
        self._fields = FieldSealer(subject_keys) if subject_keys is not None else None
        self._writer: RecordWriter | None = None
        self._reader: InboxReader | None = None
        self._lock = threading.RLock()
        self._published: dict[str, set[str]] = {}

    # --- identity ----------------------------------------------------------------------------

    @property
    def partner_id(self) -> PartnerId:
        return self.partner.id

    def pseudonym(self, bsn: str) -> ClientPseudonym:
        """The hub-wide client pseudonym of a BSN (ValueError if it is not 8-9 digits)."""
        return self.pseudonymise(bsn)

    def event_id(self, record: Envelope) -> EventId:
        """The deterministic event id of ``record`` from this partner."""
        return event_id_for(record, self.partner_id)

    def stamp(self, record: E) -> E:
        """``record`` with this partner as source and its deterministic event id."""
        if record.source_partner != self.partner_id:
            record = record.model_copy(update={"source_partner": self.partner_id})
        return with_event_id(record, self.partner_id)

    # --- publishing ----------------------------------------------------------------------------

    def _writer_for(self) -> RecordWriter:
        with self._lock:
            if self._writer is None:
                client_id = f"{self.settings.client_id}-{self.partner_id}"
                self._writer = RecordWriter(self.settings, self.codec, client_id=client_id)
            return self._writer

    def _seen(self, topic: str, source: str | None) -> set[str]:
        with self._lock:
            found = self._published.get(topic)
            if found is None:
                found = published_event_ids(self.settings, topic, source=source)
                self._published[topic] = found
            return found

    def preload(self) -> int:
        """Read the outbox's event ids now (else on the first publish); returns how many."""
        return len(self._seen(self.outbox, None)) if self.dedupe else 0

    def _claim(self, topic: str, event_id: str, source: str | None) -> bool:
        """True if ``event_id`` is new on ``topic`` (and now taken)."""
        if not self.dedupe:
            return True
        seen = self._seen(topic, source)
        with self._lock:
            if event_id in seen:
                return False
            seen.add(event_id)
            return True

    def publish(self, record: Envelope) -> PublishResult:
        """Queue ``record`` for the outbox, unless its event id is already there.

        The record's ``source_partner`` must be this partner and its type one the outbox
        carries. Sending is asynchronous: :meth:`flush` waits for the acknowledgements.
        """
        if record.source_partner != self.partner_id:
            raise ForeignRecordError(
                f"{record.avro_name} {record.event_id} has source_partner "
                f"'{record.source_partner}'; this client publishes as '{self.partner_id}'"
            )
        if record.avro_name not in self._publishable:
            raise NotPublishableError(
                f"{record.avro_name} cannot be published to {self.outbox} "
                f"(it carries {', '.join(sorted(self._publishable))})"
            )
        writer = self._writer_for()
        if not self._claim(self.outbox, record.event_id, None):
            return PublishResult(record.event_id, PublishOutcome.DUPLICATE)
        try:
            writer.send(
                self.outbox,
                record,
                key=record_key(record),
                event_id=record.event_id,
                source=self.partner_id,
                time=record.occurred_at,
                protect=sealer(self.security) if self.security is not None else None,
            )
        except BaseException:
            with self._lock:
                self._published.get(self.outbox, set()).discard(record.event_id)
            raise
        return PublishResult(record.event_id, PublishOutcome.PUBLISHED)

    def dead_letter_id(self, *parts: str | bytes) -> EventId:
        """A deterministic id for a dead letter about ``parts`` (e.g. row content and reason)."""
        return derive_event_id(self.partner_id, DeadLetter.avro_name, *parts)

    def publish_dead_letter(
        self, dead_letter: DeadLetter, *, event_id: str, key: bytes | None = None
    ) -> PublishResult:
        """Queue a dead letter for the hub's dead-letter topic, once per ``event_id``."""
        writer = self._writer_for()
        if not self._claim(self.dead_letter_topic, event_id, self.partner_id):
            return PublishResult(event_id, PublishOutcome.DUPLICATE)
        writer.send(
            self.dead_letter_topic,
            dead_letter,
            key=key,
            event_id=event_id,
            source=self.partner_id,
            time=dead_letter.failed_at,
            protect=signer(self.security) if self.security is not None else None,
        )
        return PublishResult(event_id, PublishOutcome.PUBLISHED)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until the broker acknowledged everything queued (PublishError if not)."""
        if self._writer is not None:
            self._writer.flush(timeout_s)

    # --- the inbox ------------------------------------------------------------------------------

    def _reader_for(self) -> InboxReader:
        with self._lock:
            if self._reader is None:
                self._reader = InboxReader(
                    self.settings,
                    self.inbox,
                    self.codec,
                    group_id=self.group_id,
                    opener=opener(self.security) if self.security is not None else None,
                    fields=self._fields,
                )
            return self._reader

    def poll(self, timeout_s: float = 1.0, max_records: int = 500) -> list[InboxMessage]:
        """The next inbox messages (joins the consumer group on first use)."""
        return self._reader_for().poll(timeout_s, max_records)

    def subscribe(self, *, idle_timeout_s: float | None = None) -> Iterator[InboxMessage]:
        """Inbox messages one by one; ends after ``idle_timeout_s`` without any (or never).

        The idle time counts from when the group assigned partitions to this client, so
        a slow group join does not end the iteration early.
        """
        reader = self._reader_for()
        idle_since: float | None = None
        while True:
            messages = reader.poll(timeout_s=0.5)
            if messages:
                idle_since = None
                yield from messages
                continue
            if idle_timeout_s is None or not reader.assigned:
                continue
            now = time.monotonic()
            if idle_since is None:
                idle_since = now
            elif now - idle_since >= idle_timeout_s:
                return

    @property
    def assigned(self) -> bool:
        """True once the consumer group gave this client inbox partitions."""
        return self._reader is not None and self._reader.assigned

    def caught_up(self) -> bool:
        """True when the inbox is read up to its high watermark (nothing more to poll now)."""
        return self._reader is not None and self._reader.caught_up()

    def commit(self, *messages: InboxMessage) -> None:
        """Mark messages as handled: a restarted client resumes after them."""
        self._reader_for().commit(messages)

    def seek_back(self, message: InboxMessage) -> None:
        """Deliver ``message`` (and what follows in its partition) again on the next poll."""
        self._reader_for().seek_back(message)

    # --- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the Kafka clients (pending sends get a short grace) and an own registry client."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        if self._own_registry:
            self.registry.close()
        if self._own_keys is not None:
            self._own_keys.close()

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
