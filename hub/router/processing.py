"""The router's core: one inbound record in, the records to write out.

:class:`RouterCore` turns a record read from a partner's outbox into :class:`Write` s -
the projected copies for every entitled recipient's inbox (each with the disclosure to
audit), a routing-state snapshot when the record changes what the rules know about the
subject, the national monitor's events of an accepted record (when the core has a
:class:`~hub.router.monitoring.MonitorFeed`), or a dead letter plus a rejection notice to
the publisher when a rule refuses it - and turns ended consents into erasure notices and
tombstones. It reads and updates a :class:`~hub.router.state.PartitionState`; it does no
I/O. Every write carries a deterministic id (:mod:`hub.router.ids`) and is skipped when
the state says the id is already on its topic, so handling a record twice writes nothing
new.

Plain Python: no Kafka, no faust.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from consent.policy import PolicyMatrix
from hub.ids import ConsentId, EventId, PartnerId
from hub.router.audit import Delivery
from hub.router.entitlement import (
    HANDOVER_PURPOSES,
    Entitlement,
    entitlement_for,
    entitlements,
    may_know,
    vacancy_recipients,
)
from hub.router.ids import (
    dead_letter_id,
    delivery_id,
    erasure_id,
    rejection_id,
    state_id,
    tombstone_id,
)
from hub.router.projection import ALWAYS, carried_categories, project
from hub.router.state import HUB_SOURCE, PartitionState, SubjectState, apply_accepted
from hub.router.validation import (
    Rejection,
    derive,
    validate,
    validate_stateless,
)
from schemas.loader import SchemaSet
from schemas.models import (
    CanonicalRecord,
    ClientProfile,
    ConsentChange,
    DeadLetter,
    DisclosureEvent,
    ErasureNotice,
    IntakeDecision,
    PersonalArrangement,
    PersonRecord,
    RecordHeader,
    RejectionNotice,
    ResponsibilityTransfer,
    StaffSurplus,
    Vacancy,
)
from schemas.models.enums import DeadLetterReason
from schemas.rollout import Rollout, shipped_rollout
from schemas.vocabulary import DataCategory
from topics.catalogue import TopicCatalogue
from topics.partners import Partner, PartnerDirectory

if TYPE_CHECKING:
    from hub.router.monitoring import MonitorFeed

__all__ = [
    "MAX_REFUSED_KEY",
    "MAX_REFUSED_VALUE",
    "WITHHELD_MESSAGE",
    "Inbound",
    "Moved",
    "RouterCore",
    "Write",
]

_STATEFUL = (ClientProfile, IntakeDecision, PersonalArrangement, ResponsibilityTransfer)

MAX_REFUSED_KEY = 64 * 1024
"""The most of a refused record's key a dead letter or rejection notice carries (bytes);
a longer key is cut there and the notice keyed by its own id instead, so the refusal fits
a produce request (a refusal that cannot be written would stall its partition)."""
MAX_REFUSED_VALUE = 768 * 1024
"""The most of a refused record's value a dead letter carries (bytes); its source topic,
partition and offset still point at the whole record."""
WITHHELD_MESSAGE = (
    "refused by a rule on what the hub knows about this person, which no consent of theirs "
    "entitles this partner to know; the hub's operators have the reason"
)
"""The message of a rejection notice whose reason is withheld (REASON_WITHHELD)."""


@dataclass(frozen=True, slots=True)
class Moved:
    """Where the router read a record it moved to the repartition topic
    (:mod:`hub.router.repartition`)."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Inbound:
    """A record as published to an outbox topic (``topic``, ``partition``, ``offset``:
    where it was published, also when the router read it from the repartition topic)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp: float | None = None
    """The record's timestamp on the outbox (seconds since the epoch), when known."""
    highwater: int | None = None
    """The partition's high watermark as the consumer last saw it, when known (lag)."""
    moved: Moved | None = None
    """Where it was read on the repartition topic, when the router moved it there."""

    @property
    def routing_partition(self) -> int:
        """The partition it is routed on, and everything it causes written to: the one
        its key hashes to (for a record not moved: the one it was published to)."""
        return self.partition if self.moved is None else self.moved.partition


@dataclass(frozen=True, slots=True)
class Write:
    """One record to write; ``record`` None is a tombstone.

    ``delivery`` is set for records delivered to an inbox: once the value is encoded, a
    DisclosureEvent with its hash is written to the audit topic.
    """

    topic: str
    partition: int
    key: bytes | None
    record: CanonicalRecord | None
    event_id: str
    delivery: Delivery | None = None
    record_type: str | None = None
    """CloudEvents type of a tombstone (records name their own)."""


class RouterCore:
    """Validation, entitlement, projection and the writes they lead to."""

    def __init__(
        self,
        *,
        catalogue: TopicCatalogue,
        directory: PartnerDirectory,
        policy: PolicyMatrix,
        schemas: SchemaSet,
        partitions: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monitor: MonitorFeed | None = None,
        rollout: Rollout | None = None,
    ) -> None:
        """``rollout``: from which day each region is live (None: the shipped phasing)."""
        self.catalogue = catalogue
        self.rollout = rollout or shipped_rollout()
        self.monitor = monitor
        """The national monitor's feed (:mod:`hub.router.monitoring`); None: no monitor events."""
        self.policy = policy
        self.partitions = partitions
        self.clock = clock
        self.partners: dict[str, Partner] = {p.id: p for p in directory}
        self._order: tuple[Partner, ...] = tuple(directory)
        self._owner = {catalogue.outbox(p.id).name: p for p in directory}
        self._inbox: dict[str, str] = {p.id: catalogue.inbox(p.id).name for p in directory}
        self._fields: dict[str, dict[str, DataCategory]] = {
            name: schemas.field_categories(name) for name in schemas.messages()
        }
        self.dead_letter_topic = catalogue.dead_letter.name
        self.state_topic = catalogue.routing_state.name
        self.audit_topic = catalogue.disclosures.name
        self.skipped = 0
        """Writes skipped because their id was already on the topic (replays, recovery)."""
        self.decisions: Counter[str] = Counter()
        """Consent decisions by outcome (``allowed``, ``partial``, ``denied``), one per
        person record considered for delivery; the engine reads and clears it per batch."""

    def _claim(self, state: PartitionState, write_id: str) -> bool:
        """True (and noted) when ``write_id`` is not on its topic yet; False counts a skip."""
        if state.written.add(write_id):
            return True
        self.skipped += 1
        return False

    # --- topics -----------------------------------------------------------------------------------

    def publisher_of(self, topic: str) -> Partner:
        """The partner owning the outbox ``topic`` (KeyError for other topics)."""
        return self._owner[topic]

    def inbox_of(self, partner_id: str) -> str:
        return self._inbox[partner_id]

    def field_categories(self, record_type: str) -> dict[str, DataCategory]:
        return self._fields[record_type]

    # --- one inbound record -----------------------------------------------------------------------

    def handle(
        self,
        state: PartitionState,
        message: Inbound,
        decoded: CanonicalRecord | Rejection,
        *,
        record_type: str | None = None,
        redelivery: bool | None = None,
    ) -> list[Write]:
        """The writes for one outbox record (``decoded`` is a Rejection when undecodable).

        ``redelivery``: the replay guard's word (record security on) on whether this outbox
        partition held the record's event id at this very offset before; False means the
        id is new to this outbox, so the record is no replay whatever the state has
        applied (None: unknown, no guard)."""
        publisher = self.publisher_of(message.topic)
        if isinstance(decoded, Rejection):
            return self.refuse(
                state, message, publisher, decoded, record=None, record_type=record_type
            )
        record = decoded
        pseudonym = record.client_pseudonym if isinstance(record, PersonRecord) else None
        writes: list[Write] = []
        replay = False
        if isinstance(record, PersonRecord) and redelivery is not False:
            # (redelivery False: new to its outbox, so another outbox's event id)
            applied, applied_from = state.applied.lookup(record.event_id)
            # accepted from another outbox: no replay (known without the replay guard too)
            replay = applied and applied_from in (None, publisher.id)
        if replay:
            # Accepted before (e.g. before a crash): the state already holds its effect, so
            # the rules that read the state are not asked again (they could refuse the
            # record because of itself, or of what followed it). The rules that do not read
            # it are: another record under an accepted event id must not pass unchecked.
            rejection = validate_stateless(
                record,
                publisher=publisher,
                key=message.key,
                partition=message.routing_partition,
                partitions=self.partitions,
            )
        else:
            subject = state.subjects.get(pseudonym) if pseudonym else None
            rejection = validate(
                record,
                publisher=publisher,
                key=message.key,
                partition=message.routing_partition,
                partitions=self.partitions,
                subject=subject or SubjectState(),
                directory=self.partners,
                today=self.clock().date(),
                rollout=self.rollout,
            )
        if rejection is not None:
            return self.refuse(
                state, message, publisher, rejection, record=record, record_type=record.avro_name
            )
        accepted = derive(record)
        if self.monitor is not None and isinstance(accepted, PersonRecord):
            # before the state moves on: derive compares with the version it holds
            writes += self.monitor.writes(
                state, accepted, publisher, replay=replay, claim=self._claim
            )
        if not replay and isinstance(accepted, _STATEFUL):
            writes += self._apply_state(state, accepted, message, publisher)
        if isinstance(accepted, Vacancy | StaffSurplus):
            return writes + self._vacancy_writes(state, accepted, message, publisher)
        if isinstance(accepted, PersonRecord):
            writes += self._deliveries(state, accepted, message, publisher)
            if isinstance(accepted, ResponsibilityTransfer):
                writes += self._handover(state, accepted, message, publisher)
        return writes

    def _apply_state(
        self, state: PartitionState, record: PersonRecord, message: Inbound, publisher: Partner
    ) -> list[Write]:
        subject = state.subject(record.client_pseudonym)
        apply_accepted(subject, record)
        state.applied[record.event_id] = publisher.id
        snapshot_id = state_id(record.event_id)
        if not self._claim(state, snapshot_id):
            return []
        snapshot = subject.to_record(
            record.client_pseudonym,
            event_id=snapshot_id,
            source_event_id=record.event_id,
            now=self.clock(),
            source_event_partner=publisher.id,
        )
        return [
            Write(self.state_topic, message.routing_partition, message.key, snapshot, snapshot_id)
        ]

    def _deliveries(
        self,
        state: PartitionState,
        record: PersonRecord,
        message: Inbound,
        publisher: Partner,
    ) -> list[Write]:
        categories = self._fields[record.avro_name]
        consents = state.consents.consents_of(record.client_pseudonym)
        if not consents:
            self.decisions["denied"] += 1
            return []  # fail closed: no consent known for this subject
        excluded: frozenset[str] = frozenset()
        parties: frozenset[str] = frozenset()
        if isinstance(record, PersonalArrangement):
            subject = state.subjects.get(record.client_pseudonym)
            if subject is not None:
                excluded = frozenset(subject.former_responsible)
        elif isinstance(record, ResponsibilityTransfer):
            parties = frozenset(
                p.partner_id for p in (record.from_party, record.to_party) if p is not None
            )
        carried = carried_categories(record, categories)
        found = entitlements(
            record.avro_name,
            carried,
            consents,
            self._order,
            publisher=publisher.id,
            excluded=excluded,
            parties=parties,
            now=self.clock(),
            policy=self.policy,
        )
        self.decisions[_outcome(found, carried)] += 1
        return [
            w
            for e in found
            if (
                w := self._deliver(
                    state,
                    record=record,
                    entitled=e,
                    partition=message.routing_partition,
                    key=message.key,
                    publisher=publisher,
                )
            )
        ]

    def _deliver(
        self,
        state: PartitionState,
        *,
        record: PersonRecord,
        entitled: Entitlement,
        partition: int,
        key: bytes | None,
        publisher: Partner,
    ) -> Write | None:
        recipient = entitled.recipient
        write_id = delivery_id(record.event_id, recipient.id)
        if not self._claim(state, write_id):
            return None
        projection = project(record, entitled.allowed, self._fields[record.avro_name])
        delivery = Delivery(
            subject=record.client_pseudonym,
            recipient=recipient,
            purpose=entitled.purpose,
            projection=projection,
            consent_ids=entitled.consent_ids,
            policy_version=entitled.policy_version,
            source_event_id=record.event_id,
            publisher=record.source_partner or publisher.id,
        )
        state.record_disclosure(record.client_pseudonym, recipient.id, entitled.consent_ids)
        return Write(
            self._inbox[recipient.id], partition, key, projection.record, write_id, delivery
        )

    def _handover(
        self,
        state: PartitionState,
        transfer: ResponsibilityTransfer,
        message: Inbound,
        publisher: Partner,
    ) -> list[Write]:
        """The new first-responsible party receives the arrangement (as consented)."""
        subject = state.subjects.get(transfer.client_pseudonym)
        assert transfer.to_party is not None
        receiver = self.partners.get(transfer.to_party.partner_id)
        if subject is None or receiver is None:
            return []
        arrangement = subject.arrangements.get(transfer.arrangement_id or "")
        if arrangement is None:
            return []
        consents = state.consents.consents_of(transfer.client_pseudonym)
        entitled = entitlement_for(
            receiver,
            HANDOVER_PURPOSES,
            carried_categories(arrangement, self._fields[arrangement.avro_name]),
            consents,
            now=self.clock(),
            policy=self.policy,
        )
        if entitled is None:
            return []
        composer = self.partners.get(arrangement.source_partner, publisher)
        write = self._deliver(
            state,
            record=arrangement,
            entitled=entitled,
            partition=message.routing_partition,
            key=message.key,
            publisher=composer,
        )
        return [write] if write is not None else []

    def _vacancy_writes(
        self,
        state: PartitionState,
        vacancy: Vacancy | StaffSurplus,
        message: Inbound,
        publisher: Partner,
    ) -> list[Write]:
        writes = []
        for recipient in vacancy_recipients(vacancy.region, self._order, publisher=publisher.id):
            write_id = delivery_id(vacancy.event_id, recipient.id)
            if not self._claim(state, write_id):
                continue
            writes.append(
                Write(
                    self._inbox[recipient.id],
                    message.routing_partition,
                    message.key,
                    vacancy,
                    write_id,
                )
            )
        return writes

    # --- refusals ---------------------------------------------------------------------------------

    def refuse(
        self,
        state: PartitionState,
        message: Inbound,
        publisher: Partner,
        rejection: Rejection,
        *,
        record: CanonicalRecord | None,
        record_type: str | None,
    ) -> list[Write]:
        """A dead letter and a rejection notice to the publisher's own inbox.

        ``message`` is the record as it arrived: its dead letter keeps that key, value and
        headers (an encrypted value stays encrypted; never the decrypted one). The dead
        letter has the full reason; the notice has it only when the rejection reveals
        nothing of the subject's state the publisher may not know (else REASON_WITHHELD)."""
        now = self.clock()
        event_id = getattr(record, "event_id", None) or _header(message.headers, "ce_id")
        writes: list[Write] = []
        dead_id = dead_letter_id(message.topic, message.partition, message.offset)
        notice_id = rejection_id(message.topic, message.partition, message.offset)
        original_key, cut = _cut(message.key, MAX_REFUSED_KEY, "key")
        original_value, cut_value = _cut(message.value, MAX_REFUSED_VALUE, "value")
        explained = rejection.message + "".join(f" ({c})" for c in (cut, cut_value) if c)
        if self._claim(state, dead_id):
            dead = DeadLetter(
                source_topic=message.topic,
                source_partition=message.partition,
                source_offset=message.offset,
                source_partner=publisher.id,
                record_type=record_type,
                original_key=original_key,
                original_value=original_value,
                reason=rejection.reason,
                message=explained,
                field=rejection.field,
                event_id=event_id,
                failed_at=now,
                original_headers=_as_arrived(message.headers),
            )
            dead_key = message.key if not cut else dead_id.encode()
            writes.append(
                Write(self.dead_letter_topic, message.routing_partition, dead_key, dead, dead_id)
            )
        if self._claim(state, notice_id):
            told = self._told(state, publisher, rejection, record, now)
            notice = RejectionNotice(
                event_id=EventId(notice_id),
                occurred_at=now,
                source_partner=HUB_SOURCE,
                record_key=original_key.decode("utf-8", "replace") if original_key else None,
                rejected_event_id=event_id,
                record_type=record_type,
                source_topic=message.topic,
                source_partition=message.partition,
                source_offset=message.offset,
                reason=told.reason,
                message=told.message + "".join(f" ({c})" for c in (cut, cut_value) if c),
                field=told.field,
            )
            # A compacted topic refuses records without a key, and a produce request one of
            # more than a MiB: give the notice its id then.
            key = message.key if message.key is not None and not cut else notice_id.encode()
            writes.append(
                Write(self._inbox[publisher.id], message.routing_partition, key, notice, notice_id)
            )
        return writes

    def _told(
        self,
        state: PartitionState,
        publisher: Partner,
        rejection: Rejection,
        record: CanonicalRecord | None,
        now: datetime,
    ) -> Rejection:
        """What the publisher's rejection notice says: ``rejection``, or a generic reason
        when it reveals state of the subject no consent entitles the publisher to."""
        reveals = rejection.reveals
        if reveals is None:
            return rejection
        subject = record.client_pseudonym if isinstance(record, PersonRecord) else None
        consents = state.consents.consents_of(subject) if subject else ()
        entitled = may_know(
            publisher,
            reveals.record_type,
            reveals.categories,
            consents,
            now=now,
            policy=self.policy,
        )
        if entitled:
            return rejection
        return Rejection(DeadLetterReason.REASON_WITHHELD, WITHHELD_MESSAGE)

    def consent_refusals(self, state: PartitionState) -> list[Write]:
        """Dead letters of the consent feed records the loader refused (each at most once):
        the record as it arrived and the reason; nobody's inbox hears of it."""
        if not state.refused_changes:
            return []
        pending, state.refused_changes = state.refused_changes, []
        now = self.clock()
        writes: list[Write] = []
        for refused in pending:
            dead_id = dead_letter_id(refused.topic, refused.partition, refused.offset)
            if not self._claim(state, dead_id):
                continue
            original_key, cut = _cut(refused.key, MAX_REFUSED_KEY, "key")
            original_value, cut_value = _cut(refused.value, MAX_REFUSED_VALUE, "value")
            dead = DeadLetter(
                source_topic=refused.topic,
                source_partition=refused.partition,
                source_offset=refused.offset,
                source_partner=PartnerId(refused.signer) if refused.signer else None,
                record_type=ConsentChange.avro_name,
                original_key=original_key,
                original_value=original_value,
                reason=refused.reason,
                message=refused.detail + "".join(f" ({c})" for c in (cut, cut_value) if c),
                event_id=EventId(refused.event_id) if refused.event_id else None,
                failed_at=now,
                original_headers=_as_arrived(refused.headers),
            )
            key = refused.key if refused.key is not None and not cut else dead_id.encode()
            writes.append(Write(self.dead_letter_topic, refused.partition, key, dead, dead_id))
        return writes

    # --- ended consents ---------------------------------------------------------------------------

    def erasures(self, state: PartitionState) -> list[Write]:
        """Erasure notices (and tombstones) for consents that ended, to whoever received
        data under them; each at most once."""
        if not state.pending_erasures:
            return []
        pending, state.pending_erasures = state.pending_erasures, []
        now = self.clock()
        writes: list[Write] = []
        for ended in pending:
            received = state.disclosed.get(ended.subject, {})
            key = ended.subject.encode("utf-8")
            for recipient_id in sorted(received):
                if ended.consent_id not in received[recipient_id]:
                    continue
                partner = self.partners.get(recipient_id)
                if partner is None:
                    continue
                covered = state.consents.covers(
                    ended.subject, partner.id, partner.kind, partner.region, now
                )
                inbox = self._inbox[recipient_id]
                notice_id = erasure_id(ended.event_id, recipient_id)
                if self._claim(state, notice_id):
                    notice = ErasureNotice(
                        event_id=EventId(notice_id),
                        occurred_at=now,
                        source_partner=HUB_SOURCE,
                        client_pseudonym=ended.subject,
                        consent_id=ended.consent_id,
                        change=ended.change,
                        effective_at=ended.effective_at,
                        consent_event_id=ended.event_id,
                        still_covered=covered,
                    )
                    writes.append(Write(inbox, state.partition, key, notice, notice_id))
                grave_id = tombstone_id(ended.event_id, recipient_id)
                if not covered and self._claim(state, grave_id):
                    writes.append(
                        Write(
                            inbox,
                            state.partition,
                            key,
                            None,
                            grave_id,
                            record_type="nl.rmt.hub.Tombstone",
                        )
                    )
        return writes

    # --- recovery ---------------------------------------------------------------------------------

    def missing_audits(
        self, state: PartitionState, delivered: Iterable[DisclosureEvent]
    ) -> list[Write]:
        """Audit records of deliveries found in inboxes but not on the audit topic (a crash
        between the two writes)."""
        writes = []
        for event in delivered:
            state.record_disclosure(
                event.client_pseudonym,
                event.recipient,
                tuple(ConsentId(c) for c in event.consent_ids),
            )
            if not state.audited.add(event.event_id):
                continue
            writes.append(
                Write(
                    self.audit_topic,
                    state.partition,
                    event.client_pseudonym.encode("utf-8"),
                    event,
                    event.event_id,
                )
            )
        return writes


def _cut(data: bytes | None, limit: int, what: str) -> tuple[bytes | None, str | None]:
    """``data`` cut to ``limit`` bytes, and a note saying so (None when it fits)."""
    if data is None or len(data) <= limit:
        return data, None
    return data[:limit], f"the original {what} of {len(data):,} bytes is cut to its first {limit:,}"


def _as_arrived(headers: Iterable[tuple[str, bytes]]) -> list[RecordHeader]:
    """A record's headers for its dead letter, exactly as they were (names may repeat)."""
    return [RecordHeader(name=name, value=bytes(value)) for name, value in headers]


def _outcome(found: Iterable[Entitlement], carried: frozenset[DataCategory]) -> str:
    """``denied`` (nobody entitled), ``partial`` (some recipient gets some categories
    withheld) or ``allowed``."""
    granted = list(found)
    if not granted:
        return "denied"
    wanted = carried - ALWAYS
    return "allowed" if all(wanted <= e.allowed for e in granted) else "partial"


def _header(headers: tuple[tuple[str, bytes], ...], name: str) -> EventId | None:
    """A header as text (the CloudEvents id of a record that could not be decoded)."""
    for key, value in headers:
        if key == name:
            return EventId(value.decode("utf-8", "replace"))
    return None
