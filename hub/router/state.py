"""What a router worker keeps per partition: consents, subjects, what it already wrote.

All of it is rebuilt from topics whenever the worker is assigned a partition (see
:mod:`hub.router.loader`), never trusted across a rebalance:

* :class:`ConsentTable`, from the consent change feed (same partition number: the feed
  is keyed and partitioned like the outboxes). Changes apply idempotently: a change
  seen before (same event id) is ignored, the latest change of a consent wins, and a
  withdrawal or expiry is final - a late copy of the GIVEN event never revives it. With
  record security on, a change applies only when it follows its subject's chain
  (:meth:`ConsentTable.follows`); changes refused (unsigned, forged, out of chain) wait
  in :attr:`PartitionState.refused_changes` for their dead letter
  (docs/decisions/0002-consent-stream-table-join.md).
* :class:`SubjectState` per client pseudonym, from the router's own routing-state topic
  (the latest snapshot per subject wins; its health-derived flags sealed with the subject
  key, unknown once the key is destroyed): residence, benefit, banenafspraak, the
  first-responsible party and the latest version of each arrangement; for the monitor
  feed (:mod:`hub.router.monitoring`) the person's :class:`MonitorSubject` and the
  version before the latest of each arrangement.
* The ids already on the co-partitioned output topics (inboxes, audit, dead letters,
  routing state), so nothing is written twice, kept on disk (:mod:`hub.router.seen`) so
  a worker's memory does not grow with every record it routes; who received what under
  which consent (for erasure notices); and erasures still to announce.

Plain Python: no Kafka, no faust.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from consent.decision import CompiledConsent
from consent.model import ConsentStatus, Recipient
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.monitor.derive import MonitorSubject
from hub.router.seen import AppliedIds, IdSet, SeenIds
from schemas.models import (
    ClientProfile,
    ConsentChange,
    IntakeDecision,
    PartyRef,
    PersonalArrangement,
    ResponsibilityTransfer,
    RoutingState,
)
from schemas.models.base import CanonicalRecord
from schemas.models.enums import ConsentChangeType, DeadLetterReason
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus, JobSeekerCategory, PartnerKind

__all__ = [
    "HUB_SOURCE",
    "ConsentEnded",
    "ConsentRefusal",
    "ConsentTable",
    "PartitionState",
    "SubjectState",
    "apply_accepted",
    "compile_change",
    "superseded",
]

HUB_SOURCE = PartnerId("hub")
"""``source_partner`` (and CloudEvents source) of everything the router writes itself."""

_STATUS = {
    ConsentChangeType.GIVEN: ConsentStatus.GIVEN,
    ConsentChangeType.WITHDRAWN: ConsentStatus.WITHDRAWN,
    ConsentChangeType.EXPIRED: ConsentStatus.EXPIRED,
}


def compile_change(change: ConsentChange) -> CompiledConsent:
    """The decision function's view of the consent as this change leaves it.

    A recipient that names neither a partner nor a kind (or both) is dropped: it can
    match nobody, so the consent covers less, never more (fail closed).
    """
    recipients: list[Recipient] = []
    for entry in change.recipients:
        try:
            recipients.append(
                Recipient(
                    partner_id=entry.partner_id,
                    partner_kind=entry.partner_kind,
                    region=entry.region,
                )
            )
        except ValidationError:
            continue
    return CompiledConsent(
        id=change.consent_id,
        status=_STATUS[change.change],
        valid_from=change.valid_from,
        valid_until=change.valid_until,
        recipients=tuple(recipients),
        purposes=frozenset(change.purposes),
        categories=frozenset(change.data_categories),
        legal_basis=change.legal_basis,
    )


@dataclass(frozen=True, slots=True)
class ConsentEnded:
    """A consent was withdrawn or expired: recipients under it get an erasure notice."""

    subject: ClientPseudonym
    consent_id: ConsentId
    change: ConsentChangeType
    effective_at: datetime
    event_id: EventId


@dataclass(frozen=True, slots=True)
class ConsentRefusal:
    """A record of the consent feed the router refused: it has no effect; it is
    dead-lettered exactly as it arrived, with the reason."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    reason: DeadLetterReason
    detail: str
    signer: str | None = None
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    consent: CompiledConsent
    event_id: EventId
    change: ConsentChangeType
    occurred_at: datetime
    recorded_at: datetime


class ConsentTable:
    """The consents of every subject of one partition, from the change feed."""

    def __init__(self) -> None:
        self._by_subject: dict[str, dict[str, _Entry]] = {}
        self._events: set[str] = set()
        self._blocked: set[str] = set()
        self._heads: dict[str, str] = {}
        """subject -> record_hash of its last change applied (the end of its chain)."""
        self.applied = 0

    def block(self, subject: str) -> None:
        """A change of ``subject`` could not be read: deliver nothing about it (fail closed)."""
        self._blocked.add(subject)

    def follows(self, change: ConsentChange, previous: str | None) -> bool:
        """Whether ``change``, linked to ``previous`` (the ``record_hash`` of its subject's
        change before it; None: the subject's first), may be applied: it continues the
        subject's chain, or it is a copy of a change applied already (which
        :meth:`apply` ignores)."""
        if change.event_id in self._events:
            return True
        return self._heads.get(change.subject_pseudonym) == previous

    def apply(self, change: ConsentChange) -> ConsentEnded | None:
        """Apply one change; returns the end of a consent when this change ended it."""
        if change.event_id in self._events:
            return None
        self._events.add(change.event_id)
        self._heads[change.subject_pseudonym] = change.record_hash
        entries = self._by_subject.setdefault(change.subject_pseudonym, {})
        current = entries.get(change.consent_id)
        if current is not None:
            if current.consent.status is not ConsentStatus.GIVEN:
                return None  # ended is final
            if (
                change.change is ConsentChangeType.GIVEN
                and change.recorded_at < current.recorded_at
            ):
                return None  # an older copy of the terms
        entries[change.consent_id] = _Entry(
            compile_change(change),
            change.event_id,
            change.change,
            change.occurred_at,
            change.recorded_at,
        )
        self.applied += 1
        if change.change is ConsentChangeType.GIVEN:
            return None
        return ConsentEnded(
            subject=change.subject_pseudonym,
            consent_id=change.consent_id,
            change=change.change,
            effective_at=change.occurred_at,
            event_id=change.event_id,
        )

    def consents_of(self, subject: str) -> tuple[CompiledConsent, ...]:
        """The subject's consents, any status (none at all for a blocked subject)."""
        if subject in self._blocked:
            return ()
        entries = self._by_subject.get(subject)
        if not entries:
            return ()
        return tuple(entry.consent for entry in entries.values())

    def ended(self) -> Iterator[ConsentEnded]:
        """Every consent that is withdrawn or expired, as the change that ended it."""
        for subject, entries in self._by_subject.items():
            for consent_id, entry in entries.items():
                if entry.change is not ConsentChangeType.GIVEN:
                    yield ConsentEnded(
                        ClientPseudonym(subject),
                        ConsentId(consent_id),
                        entry.change,
                        entry.occurred_at,
                        entry.event_id,
                    )

    def covers(
        self,
        subject: str,
        partner: str,
        kind: PartnerKind,
        region: Region | None,
        now: datetime,
    ) -> bool:
        """Whether an active consent of ``subject`` names this partner among its recipients."""
        for consent in self.consents_of(subject):
            if consent.status is not ConsentStatus.GIVEN or now < consent.valid_from:
                continue
            if consent.valid_until is not None and now >= consent.valid_until:
                continue
            if any(r.matches(partner, kind, region) for r in consent.recipients):
                return True
        return False

    def snapshot(self) -> dict[str, dict[str, str]]:
        """subject -> consent id -> status and a hash of its terms (to compare states)."""
        out: dict[str, dict[str, str]] = {}
        for subject in sorted(self._by_subject):
            for consent_id, entry in sorted(self._by_subject[subject].items()):
                consent = entry.consent
                terms = json.dumps(
                    [
                        consent.status,
                        consent.valid_from.isoformat(),
                        consent.valid_until.isoformat() if consent.valid_until else None,
                        sorted(r.model_dump_json() for r in consent.recipients),
                        sorted(consent.purposes),
                        sorted(consent.categories),
                        consent.legal_basis,
                        entry.event_id,
                    ]
                )
                digest = hashlib.sha256(terms.encode()).hexdigest()[:16]
                out.setdefault(subject, {})[consent_id] = f"{consent.status}:{digest}"
        return out

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_subject.values())


@dataclass
class SubjectState:
    """What the validation rules need to know about a subject across records."""

    job_seeker_category: JobSeekerCategory | None = None
    region: Region | None = None
    benefit_status: BenefitStatus | None = None
    banenafspraak: bool | None = None
    reduced_wage_value: bool | None = None
    first_responsible: PartyRef | None = None
    former_responsible: set[str] = field(default_factory=set)
    arrangements: dict[str, PersonalArrangement] = field(default_factory=dict)
    monitor: MonitorSubject | None = None
    """The person as the national monitor may know them (no direct identifier)."""
    monitor_prior: dict[str, PersonalArrangement] = field(default_factory=dict)
    """Per arrangement id, the accepted version the one in ``arrangements`` replaced."""

    def forget_special(self) -> None:
        """Forget the health-derived flags (the subject's key was destroyed): what a worker
        loading the routing state knows from then on, so a later snapshot does not seal
        them again under a new key."""
        self.banenafspraak = None
        self.reduced_wage_value = None
        if self.monitor is not None:
            self.monitor = replace(self.monitor, banenafspraak=False)

    @classmethod
    def from_record(cls, record: RoutingState) -> SubjectState:
        monitor = None
        if record.monitor_pseudonym is not None and record.monitor_key_version is not None:
            monitor = MonitorSubject(
                monitor_pseudonym=record.monitor_pseudonym,
                key_version=record.monitor_key_version,
                region=record.monitor_region,
                age_band=record.monitor_age_band,
                education_band=record.monitor_education_band,
                sector=record.monitor_sector,
                job_seeker_category=record.monitor_job_seeker_category,
                banenafspraak=bool(record.monitor_banenafspraak),
            )
        return cls(
            job_seeker_category=record.job_seeker_category,
            region=record.region,
            benefit_status=record.benefit_status,
            banenafspraak=record.banenafspraak,
            reduced_wage_value=record.reduced_wage_value,
            first_responsible=record.first_responsible,
            former_responsible=set(record.former_responsible),
            arrangements={a.arrangement_id or "": a for a in record.arrangements},
            monitor=monitor,
            monitor_prior={a.arrangement_id or "": a for a in record.monitor_prior},
        )

    def to_record(
        self,
        subject: ClientPseudonym,
        *,
        event_id: str,
        source_event_id: str,
        now: datetime,
        source_event_partner: str | None = None,
    ) -> RoutingState:
        return RoutingState(
            event_id=EventId(event_id),
            occurred_at=now,
            source_partner=HUB_SOURCE,
            client_pseudonym=subject,
            source_event_id=EventId(source_event_id),
            source_event_partner=(
                PartnerId(source_event_partner) if source_event_partner is not None else None
            ),
            job_seeker_category=self.job_seeker_category,
            region=self.region,
            benefit_status=self.benefit_status,
            banenafspraak=self.banenafspraak,
            reduced_wage_value=self.reduced_wage_value,
            first_responsible=self.first_responsible,
            former_responsible=sorted(self.former_responsible),
            arrangements=[self.arrangements[k] for k in sorted(self.arrangements)],
            monitor_prior=[self.monitor_prior[k] for k in sorted(self.monitor_prior)],
            **_monitor_fields(self.monitor),
        )


def _monitor_fields(subject: MonitorSubject | None) -> dict[str, Any]:
    """The ``monitor_*`` fields of a RoutingState for ``subject`` (none when None)."""
    if subject is None:
        return {}
    return {
        "monitor_pseudonym": subject.monitor_pseudonym,
        "monitor_key_version": subject.key_version,
        "monitor_region": subject.region,
        "monitor_age_band": subject.age_band,
        "monitor_education_band": subject.education_band,
        "monitor_sector": subject.sector,
        "monitor_job_seeker_category": subject.job_seeker_category,
        "monitor_banenafspraak": subject.banenafspraak,
    }


def superseded(record: PersonalArrangement, current: PersonalArrangement | None) -> bool:
    """Whether ``record`` is older (a lower revision) than the version the state holds."""
    return current is not None and (record.revision or 0) < (current.revision or 0)


def apply_accepted(state: SubjectState, record: CanonicalRecord) -> bool:
    """Fold an accepted record into the subject's state; True when it changed anything."""
    if isinstance(record, ClientProfile):
        state.job_seeker_category = record.job_seeker_category
        state.region = record.region
        state.benefit_status = record.benefit_status
        state.banenafspraak = bool(record.banenafspraak)
        state.reduced_wage_value = bool(record.reduced_wage_value)
        return True
    if isinstance(record, IntakeDecision):
        state.job_seeker_category = record.job_seeker_category
        if state.first_responsible is None:
            state.first_responsible = record.first_responsible
        return True
    if isinstance(record, PersonalArrangement):
        key = record.arrangement_id or ""
        current = state.arrangements.get(key)
        if not superseded(record, current):
            state.arrangements[key] = record
            if current is not None:
                state.monitor_prior[key] = current
            else:
                state.monitor_prior.pop(key, None)
        if state.first_responsible is None:
            state.first_responsible = record.composed_by
        return True
    if isinstance(record, ResponsibilityTransfer):
        assert record.from_party is not None
        assert record.to_party is not None
        state.former_responsible.add(record.from_party.partner_id)
        state.former_responsible.discard(record.to_party.partner_id)
        state.first_responsible = record.to_party
        if record.new_benefit_status is not None:
            state.benefit_status = record.new_benefit_status
        return True
    return False


@dataclass
class PartitionState:
    """Everything one worker knows about one partition number of the co-partitioned topics."""

    partition: int
    consents: ConsentTable = field(default_factory=ConsentTable)
    subjects: dict[str, SubjectState] = field(default_factory=dict)
    seen: SeenIds = field(default_factory=SeenIds)
    """The ids already on the output topics, and the source event ids applied (on disk:
    :mod:`hub.router.seen`)."""
    disclosed: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """subject -> recipient -> consent ids it received data under."""
    pending_erasures: list[ConsentEnded] = field(default_factory=list)
    refused_changes: list[ConsentRefusal] = field(default_factory=list)
    """Consent feed records refused, their dead letters not written yet."""

    @property
    def written(self) -> IdSet:
        """ce ids already on the inboxes, the dead-letter and the routing-state topic."""
        return self.seen.written

    @property
    def audited(self) -> IdSet:
        """Ids of the disclosure events already on the audit topic."""
        return self.seen.audited

    @property
    def applied(self) -> AppliedIds:
        """Source event ids whose effect on the subject state is in the routing-state topic,
        with the partner whose outbox published each (None: a snapshot from before that was
        recorded)."""
        return self.seen.applied

    def close(self) -> None:
        """Let the state go (its id store is deleted)."""
        self.seen.close()

    def subject(self, pseudonym: str) -> SubjectState:
        found = self.subjects.get(pseudonym)
        if found is None:
            found = self.subjects[pseudonym] = SubjectState()
        return found

    def record_disclosure(self, subject: str, recipient: str, consent_ids: tuple[str, ...]) -> None:
        self.disclosed.setdefault(subject, {}).setdefault(recipient, set()).update(consent_ids)
