"""The consent service's use cases: grant, withdraw, read, decide, report.

Every change is one transaction (event + projection + outbox row, see
:mod:`consent.store`) and then waits for the change feed: ``grant`` and ``withdraw``
return only once the change is stored *and* published (:class:`ChangePublisher`), or
raise :class:`~consent.errors.PublishTimeout` - the change is then committed and the
relay keeps publishing it; repeating the call is safe and waits again.

Expiry needs nobody: decisions compare ``valid_until`` with the clock. For the record
(and the change feed), :meth:`ConsentService.sweep_expired` appends an EXPIRED event for
consents whose period has ended; it runs with the relay but enforcement never waits
for it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import SecretStr

from consent import bulk, exports
from consent.bulk import BulkOutcome, BulkPlan, BulkSelection
from consent.crypto import BsnVault
from consent.decision import Decision, compile_consent, decide
from consent.errors import (
    ConsentConflict,
    ConsentInvalid,
    ConsentNotFound,
    ConsentStoreError,
    PublishTimeout,
)
from consent.faults import CRASH_AFTER_COMMIT, crash_point
from consent.model import (
    ConsentChangeMessage,
    ConsentChangeType,
    ConsentEvent,
    ConsentRecord,
    ConsentStatus,
    ConsentTerms,
    DisclosureRecord,
    Proof,
    Withdrawal,
    actor_role,
    chain_hash,
    new_consent_id,
    new_event_id,
    utc_now,
)
from consent.policy import PolicyMatrix
from consent.store import (
    ConsentStore,
    IdempotentGrant,
    OutboxRow,
    StoreTransaction,
    SubjectIdentity,
    Window,
)
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.metrics import HubMetrics
from schemas.identifiers import normalise_bsn
from schemas.vocabulary import DataCategory, JobSeekerCategory, PartnerKind, Purpose
from topics.partners import Partner, PartnerDirectory

__all__ = ["EXPIRY_ACTOR", "SOURCE_PARTNER", "ChangePublisher", "ConsentService"]

_LOG = logging.getLogger(__name__)

SOURCE_PARTNER = "hub"
"""``source_partner`` of the change feed: the hub's consent register publishes it."""
EXPIRY_ACTOR = "system:expiry"
EXPIRING_METRIC_DAYS = 30
"""The gauge ``rmt_consents_expiring`` counts consents ending within this many days."""
EXPIRING_METRIC_EVERY_S = 30.0
"""How often the background loop recounts the gauge at most."""


class ChangePublisher(Protocol):
    """What the service needs of the outbox relay."""

    def notify(self) -> None: ...

    def ensure_published(self, event_id: EventId, timeout_s: float) -> OutboxRow: ...


def _event(
    record: ConsentRecord,
    change: ConsentChangeType,
    *,
    actor: str,
    occurred_at: datetime,
    recorded_at: datetime,
    prev_hash: str | None,
    reason: str | None = None,
) -> ConsentEvent:
    content = {
        "event_id": new_event_id(),
        "consent_id": record.id,
        "subject": record.subject,
        "change": change,
        "actor": actor,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "reason": reason,
        "record": record,
        "prev_hash": prev_hash,
    }
    draft = ConsentEvent.model_validate({**content, "event_hash": "0" * 64})
    event_hash = chain_hash(prev_hash, draft.model_dump(mode="json", exclude={"seq", "event_hash"}))
    return draft.model_copy(update={"event_hash": event_hash})


class ConsentService:
    """The use cases, over a store, a publisher, the policy matrix and partner directory."""

    def __init__(
        self,
        store: ConsentStore,
        publisher: ChangePublisher | None,
        *,
        policy: PolicyMatrix,
        partners: PartnerDirectory,
        vault: BsnVault,
        clock: Callable[[], datetime] = utc_now,
        publish_timeout_s: float = 10.0,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.publisher = publisher
        self.policy = policy
        self.partners = partners
        self._vault = vault
        self.clock = clock
        self._publish_timeout_s = publish_timeout_s
        self._by_id: dict[str, Partner] = {p.id: p for p in partners}
        self._expiring_counted_at: float | None = None

    # --- helpers ---------------------------------------------------------------------------
    def partner(self, partner_id: str) -> Partner | None:
        return self._by_id.get(partner_id)

    def _commit(
        self, write: Callable[[StoreTransaction], tuple[ConsentRecord, ConsentEvent | None]]
    ) -> tuple[ConsentRecord, ConsentEvent | None]:
        with self.store.transaction() as tx:
            result = write(tx)
        if result[1] is not None:
            crash_point(CRASH_AFTER_COMMIT)
        return result

    def _published(self, event_id: EventId) -> None:
        if self.publisher is not None:
            self.publisher.notify()
            self.publisher.ensure_published(event_id, self._publish_timeout_s)

    def _check_terms(self, terms: ConsentTerms, now: datetime) -> None:
        controller = self.partner(terms.controller)
        if controller is None:
            raise ConsentInvalid("controller", f"unknown partner '{terms.controller}'")
        category = terms.job_seeker_category
        if category is not None:
            allowed = {category.first_responsible}
            if category is JobSeekerCategory.THREATENED_EMPLOYEE:
                allowed.add(PartnerKind.UWV)  # "social partners (and UWV where asked)"
            if controller.kind not in allowed:
                raise ConsentInvalid(
                    "controller",
                    f"the first-responsible party for {category} is "
                    f"{' or '.join(sorted(allowed))}, not {controller.kind}",
                )
        kinds: set[PartnerKind] = set()
        for index, recipient in enumerate(terms.recipients):
            if recipient.partner_id is not None:
                partner = self.partner(recipient.partner_id)
                if partner is None:
                    raise ConsentInvalid(
                        f"recipients.{index}.partner_id",
                        f"unknown partner '{recipient.partner_id}'",
                    )
                if recipient.region is not None and partner.region is not recipient.region:
                    raise ConsentInvalid(
                        f"recipients.{index}.region",
                        f"{partner.id} does not serve {recipient.region}",
                    )
                kinds.add(partner.kind)
            elif recipient.partner_kind is not None:
                kinds.add(recipient.partner_kind)
        if terms.valid_until is not None and terms.valid_until <= now:
            raise ConsentInvalid("valid_until", "has already passed")
        for category_ in terms.data_categories:
            if not any(
                category_ in self.policy.allowed(kind, purpose)
                for kind in kinds
                for purpose in terms.purposes
            ):
                raise ConsentInvalid(
                    "data_categories",
                    f"'{category_}' may never flow to these recipients for these purposes "
                    f"(policy matrix {self.policy.version}); consent can only narrow the matrix",
                )

    # --- changes -----------------------------------------------------------------------------
    def grant(
        self,
        terms: ConsentTerms,
        *,
        actor: str,
        bsn: SecretStr | None = None,
        idempotency_key: str | None = None,
        request_fingerprint: str | None = None,
    ) -> ConsentRecord:
        """Record a consent; returns once it is stored and published.

        With ``idempotency_key``, a repeat of the same request by the same actor returns
        the consent the first one recorded (published, if it was not yet) instead of
        recording another; the same key with another request is refused (ConsentInvalid).
        The request is told by ``request_fingerprint`` (the terms as the caller sent
        them, defaults left out), else by the terms' hash."""
        now = self.clock()
        self._check_terms(terms, now)
        plain_bsn: str | None = None
        if bsn is not None:
            try:
                plain_bsn = normalise_bsn(bsn.get_secret_value())
            except ValueError as exc:
                raise ConsentInvalid("bsn", str(exc)) from None
        request_hash = ""
        if idempotency_key is not None:
            # the BSN enters only as the vault's keyed lookup hash, never in clear
            bsn_part = self._vault.lookup_hash(plain_bsn) if plain_bsn else ""
            request = request_fingerprint or terms.terms_hash()
            request_hash = hashlib.sha256(f"{request}|{bsn_part}".encode()).hexdigest()
            earlier = self._earlier_grant(actor, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        record = ConsentRecord.model_validate(
            {
                **terms.model_dump(),
                "id": new_consent_id(),
                "proof": Proof(
                    recorded_by=actor,
                    recorded_at=now,
                    collection_method=terms.collection_method,
                    terms_hash=terms.terms_hash(),
                ),
            }
        )
        event = _event(
            record,
            ConsentChangeType.GIVEN,
            actor=actor,
            occurred_at=now,
            recorded_at=now,
            prev_hash=None,
        )

        def write(tx: StoreTransaction) -> tuple[ConsentRecord, ConsentEvent | None]:
            if idempotency_key is not None:
                tx.put_idempotent_grant(
                    IdempotentGrant(
                        actor, idempotency_key, request_hash, record.id, event.event_id, now
                    )
                )
            if plain_bsn is not None:
                self._keep_identity(tx, record.subject, plain_bsn, actor, now)
            tx.append(event, ConsentChangeMessage.of(event, SOURCE_PARTNER))
            return record, event

        try:
            self._commit(write)
        except ConsentStoreError:
            # a concurrent request with the same key won the insert: answer as its repeat
            if idempotency_key is None:
                raise
            earlier = self._earlier_grant(actor, idempotency_key, request_hash)
            if earlier is None:
                raise
            return earlier
        _LOG.info(  # the actor's role only: its name is a person's (it is in the register)
            "consent %s given by a %s",
            record.id,
            actor_role(actor),
            extra={"event_id": event.event_id},
        )
        try:
            self._published(event.event_id)
        except PublishTimeout as exc:  # say which consent is stored: a retry would add one
            raise PublishTimeout(f"consent {record.id} is recorded; {exc}") from exc
        return record

    def _earlier_grant(self, actor: str, key: str, request_hash: str) -> ConsentRecord | None:
        """The consent an earlier request under ``key`` recorded (published before it is
        returned), None when there was none."""
        with self.store.transaction() as tx:
            earlier = tx.idempotent_grant(actor, key)
            record = tx.get(earlier.consent_id) if earlier is not None else None
        if earlier is None:
            return None
        if earlier.request_hash != request_hash:
            raise ConsentInvalid(
                "Idempotency-Key",
                "this key was used for a grant with other terms; use a new key for a new grant",
            )
        if record is None:  # the key is written with the consent, in one transaction
            raise ConsentNotFound(f"consent {earlier.consent_id} of this key is gone")
        self._published(earlier.event_id)
        return record

    def _keep_identity(
        self, tx: StoreTransaction, subject: ClientPseudonym, bsn: str, actor: str, now: datetime
    ) -> None:
        lookup = self._vault.lookup_hash(bsn)
        known = tx.identity(subject)
        if known is None:
            tx.put_identity(
                SubjectIdentity(subject, self._vault.encrypt(bsn, subject), lookup, now, actor)
            )
        elif known.bsn_lookup != lookup:
            raise ConsentConflict(f"subject {subject} already has another BSN on record")

    def withdraw(
        self, consent_id: ConsentId, *, actor: str, reason: str | None = None
    ) -> ConsentRecord:
        """Withdraw a consent; idempotent. Returns once the withdrawal is stored and published."""
        record, event = self._store_withdrawal(consent_id, actor, reason)
        self._withdrawal_published(consent_id, record, event)
        return record

    def withdraw_all(
        self, consent_ids: Iterable[ConsentId], *, actor: str, reason: str | None = None
    ) -> list[ConsentRecord]:
        """Withdraw each consent as :meth:`withdraw` does (one transaction and one feed
        event each), but store them all before waiting for the feed, so the waits overlap."""
        stored = [(c, *self._store_withdrawal(c, actor, reason)) for c in consent_ids]
        for consent_id, record, event in stored:
            self._withdrawal_published(consent_id, record, event)
        return [record for _, record, _ in stored]

    def _store_withdrawal(
        self, consent_id: ConsentId, actor: str, reason: str | None
    ) -> tuple[ConsentRecord, ConsentEvent | None]:
        now = self.clock()

        def write(tx: StoreTransaction) -> tuple[ConsentRecord, ConsentEvent | None]:
            current = tx.get(consent_id, for_update=True)
            if current is None:
                raise ConsentNotFound(f"no consent '{consent_id}'")
            if current.status is not ConsentStatus.GIVEN or current.status_at(now) is not (
                ConsentStatus.GIVEN
            ):
                return current, None  # already withdrawn or expired: nothing to do
            record = current.model_copy(
                update={
                    "status": ConsentStatus.WITHDRAWN,
                    "withdrawal": Withdrawal(withdrawn_at=now, withdrawn_by=actor, reason=reason),
                    "version": current.version + 1,
                }
            )
            event = _event(
                record,
                ConsentChangeType.WITHDRAWN,
                actor=actor,
                occurred_at=now,
                recorded_at=now,
                prev_hash=tx.last_event_hash(consent_id),
                reason=reason,
            )
            tx.append(event, ConsentChangeMessage.of(event, SOURCE_PARTNER))
            return record, event

        record, event = self._commit(write)
        if event is not None:
            _LOG.info(
                "consent %s withdrawn by a %s",
                consent_id,
                actor_role(actor),
                extra={"event_id": event.event_id},
            )
        return record, event

    def _withdrawal_published(
        self, consent_id: ConsentId, record: ConsentRecord, event: ConsentEvent | None
    ) -> None:
        if event is not None:
            self._published(event.event_id)
        elif record.status is ConsentStatus.WITHDRAWN:
            # A repeated withdrawal also returns only once the first one is published.
            self._published(self._last_event_id(consent_id, ConsentChangeType.WITHDRAWN))

    def _last_event_id(self, consent_id: ConsentId, change: ConsentChangeType) -> EventId:
        for event in reversed(self.store.events(consent_id=consent_id)):
            if event.change is change:
                return event.event_id
        raise ConsentNotFound(f"consent '{consent_id}' has no {change} event")

    def sweep_expired(self, now: datetime | None = None) -> int:
        """Append an EXPIRED event for every consent whose period ended; return how many."""
        now = now or self.clock()
        recorded = 0
        for consent_id in self.store.due_expiries(now):
            with self.store.transaction() as tx:
                current = tx.get(consent_id, for_update=True)
                if current is None or current.status is not ConsentStatus.GIVEN:
                    continue
                if current.valid_until is None or current.valid_until > now:
                    continue
                record = current.model_copy(
                    update={
                        "status": ConsentStatus.EXPIRED,
                        "expired_recorded_at": now,
                        "version": current.version + 1,
                    }
                )
                event = _event(
                    record,
                    ConsentChangeType.EXPIRED,
                    actor=EXPIRY_ACTOR,
                    occurred_at=current.valid_until,
                    recorded_at=now,
                    prev_hash=tx.last_event_hash(consent_id),
                )
                tx.append(event, ConsentChangeMessage.of(event, SOURCE_PARTNER))
                recorded += 1
        if recorded and self.publisher is not None:
            self.publisher.notify()
        return recorded

    def housekeeping(self) -> None:
        """What the relay's background loop runs after each cycle: the expiry sweep, and
        the expiring-consents gauge (recounted every :data:`EXPIRING_METRIC_EVERY_S`)."""
        self.sweep_expired()
        counted = self._expiring_counted_at
        if counted is None or time.monotonic() - counted >= EXPIRING_METRIC_EVERY_S:
            self.refresh_expiring_metric()

    def refresh_expiring_metric(self) -> int:
        """Set ``rmt_consents_expiring`` to the consents ending within 30 days; return it."""
        now = self.clock()
        count = self.store.count_expiring(now, now + timedelta(days=EXPIRING_METRIC_DAYS))
        self._expiring_counted_at = time.monotonic()
        if self.metrics is not None:
            self.metrics.set_consents_expiring(count)
        return count

    # --- the officer's work -------------------------------------------------------------------
    def expiring(
        self, days: int, limit: int, after: tuple[datetime, ConsentId] | None = None
    ) -> list[ConsentRecord]:
        """GIVEN consents whose ``valid_until`` falls within the next ``days`` days,
        soonest first; a page of ``limit`` after ``after`` (the last one's (until, id))."""
        now = self.clock()
        return self.store.expiring(now, now + timedelta(days=days), limit, after)

    def export_disclosures(self, window: Window) -> Iterator[DisclosureRecord]:
        """The disclosures of a partner (recipient), subject or period, page by page."""
        return exports.disclosures(self.store, window)

    def export_events(self, window: Window) -> Iterator[ConsentEvent]:
        """The consent events of a partner (controller or recipient), subject or period,
        page by page."""
        partner = window.partner

        def involves(record: ConsentRecord) -> bool:
            assert partner is not None
            return (
                record.controller == partner
                or any(r.partner_id == partner for r in record.recipients)
                or self.involves(partner, record)
            )

        return exports.events(self.store, window, involves if partner is not None else None)

    def preview_bulk_withdrawal(self, selection: BulkSelection, *, actor: str) -> BulkPlan:
        """What withdrawing every consent of ``selection`` affects (see :mod:`consent.bulk`)."""
        return bulk.preview(self.store, selection, actor=actor, now=self.clock())

    def bulk_withdraw(self, token: str, *, actor: str, reason: str | None) -> BulkOutcome:
        """Withdraw the consents of a preview, each as :meth:`withdraw`; idempotent."""
        outcome = bulk.execute(
            self.store,
            token,
            actor=actor,
            reason=reason,
            now=self.clock(),
            withdraw_all=lambda ids, why: self.withdraw_all(ids, actor=actor, reason=why),
        )
        _LOG.info(
            "bulk withdrawal of %d consents by a %s",
            len(outcome.consent_ids),
            actor_role(actor),
        )
        return outcome

    # --- reading -------------------------------------------------------------------------------
    def get(self, consent_id: ConsentId) -> ConsentRecord:
        record = self.store.get(consent_id)
        if record is None:
            raise ConsentNotFound(f"no consent '{consent_id}'")
        return record

    def history(self, consent_id: ConsentId) -> list[ConsentEvent]:
        self.get(consent_id)
        return self.store.events(consent_id=consent_id)

    def for_subject(self, subject: ClientPseudonym) -> list[ConsentRecord]:
        return self.store.for_subject(subject)

    def subjects_by_bsn(self, bsn: SecretStr) -> list[ClientPseudonym]:
        try:
            plain = normalise_bsn(bsn.get_secret_value())
        except ValueError as exc:
            raise ConsentInvalid("bsn", str(exc)) from None
        return self.store.subjects_by_bsn(self._vault.lookup_hash(plain))

    def bsn_on_file(self, subject: ClientPseudonym) -> bool:
        return self.store.identity(subject) is not None

    def is_party_to(self, partner_id: str, subject: ClientPseudonym) -> bool:
        """Whether the partner is controller or recipient of any consent of the subject."""
        partner = self.partner(partner_id)
        if partner is None:
            return False
        return any(self._involves(partner, record) for record in self.for_subject(subject))

    @staticmethod
    def _involves(partner: Partner, record: ConsentRecord) -> bool:
        return record.controller == partner.id or any(
            r.matches(partner.id, partner.kind, partner.region) for r in record.recipients
        )

    def involves(self, partner_id: str, record: ConsentRecord) -> bool:
        partner = self.partner(partner_id)
        return partner is not None and self._involves(partner, record)

    def status_counts(self) -> dict[str, int]:
        return self.store.status_counts(self.clock())

    # --- deciding --------------------------------------------------------------------------------
    def decide(
        self,
        subject: ClientPseudonym,
        partner_id: PartnerId,
        purpose: Purpose,
        categories: Iterable[DataCategory],
        at: datetime | None = None,
    ) -> Decision:
        """May ``partner_id`` receive ``categories`` of ``subject`` for ``purpose`` at ``at``?"""
        partner = self.partner(partner_id)
        consents = [compile_consent(r) for r in self.store.for_subject(subject)]
        decision = decide(
            consents,
            partner=partner_id,
            partner_kind=partner.kind if partner else None,
            region=partner.region if partner else None,
            purpose=purpose,
            categories=categories,
            now=at or self.clock(),
            policy=self.policy,
        )
        if self.metrics is not None:
            self.metrics.consent_decision("allowed" if decision.allowed else "denied")
        return decision

    # --- disclosures ------------------------------------------------------------------------------
    def record_disclosure(self, disclosure: DisclosureRecord) -> bool:
        """Note that data about a subject reached a recipient (called by the router).

        Idempotent by ``disclosure_id``. The hub's router does not exist yet; until it
        does, this is the entry point it will call (tests call it directly).
        """
        return self.store.add_disclosure(disclosure)

    def disclosures(self, subject: ClientPseudonym) -> list[DisclosureRecord]:
        return self.store.disclosures_for(subject)
