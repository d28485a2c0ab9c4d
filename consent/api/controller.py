"""Between the routes and the service: who may do what, and the response bodies.

* privacy officer: everything personal - record and withdraw, read any subject, look a
  subject up by BSN, ask any decision, the subject access report;
* partner system: decisions about itself only, and only about subjects it is party to
  (controller or recipient of one of their consents), and those subjects' consents that
  name it - without who recorded or withdrew them (the role only) and without the free
  text of a withdrawal; the subject keys of the sealed (health) fields it is entitled
  to now, wrapped to its own key;
* monitor: the policy matrix and aggregate figures; nothing personal.

The routes check the roles before a request is read (:mod:`consent.api.routes`); the
methods here check them again, and the partner bindings.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from consent.api.auth import Principal
from consent.api.dto import (
    BsnLookupRequest,
    BsnLookupResponse,
    BulkPreviewView,
    BulkWithdrawalView,
    BulkWithdrawRequest,
    ConsentView,
    DecisionRequest,
    DecisionView,
    EventView,
    ExpiringPage,
    GrantRequest,
    PolicyView,
    StatsView,
    SubjectConsents,
    SubjectKeyGrantView,
    WithdrawRequest,
)
from consent.api.throttle import AuthThrottle
from consent.bulk import BulkSelection
from consent.dpv import consent_record_jsonld
from consent.erasures import (
    AcknowledgeRequest,
    ErasureList,
    ErasureNoticeView,
    ErasureStatus,
    acknowledge,
    notices_for,
    recent_notices,
)
from consent.errors import ConsentInvalid, ConsentNotFound, Forbidden
from consent.exports import ExportFormat, disclosure_lines, event_lines
from consent.model import ConsentEvent, ConsentRecord, Role, actor_role
from consent.report import AccessReport, build_access_report, render_html
from consent.service import ConsentService
from consent.store import Window
from consent.subject_keys import SubjectKeyService
from hub.ids import ClientPseudonym, ConsentId

MAX_EXPIRING_DAYS = 366

__all__ = ["MAX_EXPIRING_DAYS", "ConsentController"]

_OFFICER = Role.PRIVACY_OFFICER
_PARTNER = Role.PARTNER
_MONITOR = Role.MONITOR


def _for_partner(record: ConsentRecord) -> ConsentRecord:
    """The record without officer names and free text (a partner's view)."""
    proof = record.proof.model_copy(update={"recorded_by": actor_role(record.proof.recorded_by)})
    withdrawal = record.withdrawal
    if withdrawal is not None:
        withdrawal = withdrawal.model_copy(
            update={"withdrawn_by": actor_role(withdrawal.withdrawn_by), "reason": None}
        )
    return record.model_copy(update={"proof": proof, "withdrawal": withdrawal})


class ConsentController:
    def __init__(
        self,
        service: ConsentService,
        throttle: AuthThrottle | None = None,
        *,
        subject_keys: SubjectKeyService | None = None,
    ) -> None:
        self.service = service
        self.throttle = throttle if throttle is not None else AuthThrottle()
        self.subject_keys = subject_keys

    def _view(self, record: ConsentRecord, principal: Principal | None = None) -> ConsentView:
        if principal is not None and principal.role is not _OFFICER:
            record = _for_partner(record)
        return ConsentView.of(record, self.service.clock())

    @staticmethod
    def _event_view(event: ConsentEvent, principal: Principal) -> EventView:
        view = EventView.of(event)
        if principal.role is _OFFICER:
            return view
        return view.model_copy(update={"actor": actor_role(view.actor), "reason": None})

    def _readable(self, principal: Principal, record: ConsentRecord) -> None:
        principal.require(_OFFICER, _PARTNER)
        if principal.role is _PARTNER and not (
            principal.partner_id and self.service.involves(principal.partner_id, record)
        ):
            raise Forbidden(f"partner '{principal.partner_id}' is not party to this consent")

    def _subject_readable(self, principal: Principal, subject: ClientPseudonym) -> None:
        principal.require(_OFFICER, _PARTNER)
        if principal.role is _PARTNER and not (
            principal.partner_id and self.service.is_party_to(principal.partner_id, subject)
        ):
            raise Forbidden(f"partner '{principal.partner_id}' is not party to this subject")

    # --- changes ---------------------------------------------------------------------------
    def grant(
        self, principal: Principal, request: GrantRequest, *, idempotency_key: str | None = None
    ) -> ConsentView:
        principal.require(_OFFICER)
        record = self.service.grant(
            request.terms_only(),
            actor=principal.actor,
            bsn=request.bsn,
            idempotency_key=idempotency_key,
            request_fingerprint=request.fingerprint() if idempotency_key else None,
        )
        return self._view(record)

    def withdraw(
        self, principal: Principal, consent_id: ConsentId, request: WithdrawRequest | None
    ) -> ConsentView:
        principal.require(_OFFICER)
        reason = request.reason if request else None
        return self._view(self.service.withdraw(consent_id, actor=principal.actor, reason=reason))

    # --- reading ---------------------------------------------------------------------------
    def show(self, principal: Principal, consent_id: ConsentId) -> ConsentView:
        principal.require(_OFFICER, _PARTNER)
        record = self.service.get(consent_id)
        self._readable(principal, record)
        return self._view(record, principal)

    def record_jsonld(self, principal: Principal, consent_id: ConsentId) -> dict[str, Any]:
        """The consent as an ISO/IEC TS 27560 record in DPV JSON-LD (officer, or a party).
        The officer's name and free text stay out for a partner, as in :meth:`show`."""
        principal.require(_OFFICER, _PARTNER)
        record = self.service.get(consent_id)
        self._readable(principal, record)
        document = consent_record_jsonld(record, now=self.service.clock())
        if principal.role is not _OFFICER:
            for event in document["dct:hasPart"]:
                event.pop("rmt:recordedBy", None)
        return document

    def history(self, principal: Principal, consent_id: ConsentId) -> list[EventView]:
        principal.require(_OFFICER, _PARTNER)
        self._readable(principal, self.service.get(consent_id))
        return [self._event_view(e, principal) for e in self.service.history(consent_id)]

    def for_subject(self, principal: Principal, subject: ClientPseudonym) -> SubjectConsents:
        self._subject_readable(principal, subject)
        records = self.service.for_subject(subject)
        if principal.role is _PARTNER and principal.partner_id:
            records = [r for r in records if self.service.involves(principal.partner_id, r)]
        officer = principal.role is _OFFICER
        return SubjectConsents(
            subject=subject,
            bsn_on_file=self.service.bsn_on_file(subject) if officer else None,
            consents=[self._view(r, principal) for r in records],
        )

    def lookup(self, principal: Principal, request: BsnLookupRequest) -> BsnLookupResponse:
        principal.require(_OFFICER)
        return BsnLookupResponse(subjects=self.service.subjects_by_bsn(request.bsn))

    def decide(self, principal: Principal, request: DecisionRequest) -> DecisionView:
        principal.require(_OFFICER, _PARTNER)
        if principal.role is _PARTNER and request.partner_id != principal.partner_id:
            raise Forbidden(f"partner '{principal.partner_id}' may only ask decisions about itself")
        self._subject_readable(principal, request.subject)
        decision = self.service.decide(
            request.subject, request.partner_id, request.purpose, request.categories, request.at
        )
        return DecisionView.of(request, decision)

    def subject_key(
        self, principal: Principal, subject: ClientPseudonym, key_id: str
    ) -> SubjectKeyGrantView:
        """A subject key for the asking partner, wrapped to its key, while a consent
        entitles it to the subject's sealed data (:mod:`consent.subject_keys`)."""
        principal.require(_PARTNER)
        if self.subject_keys is None:
            raise ConsentNotFound("no subject keys: record security is off in this hub")
        assert principal.partner_id is not None  # a partner key names its partner
        grant = self.subject_keys.grant(principal.partner_id, subject, key_id)
        return SubjectKeyGrantView.of(grant)

    def access_report(self, principal: Principal, subject: ClientPseudonym) -> AccessReport:
        principal.require(_OFFICER)
        return build_access_report(self.service, subject)

    def access_report_html(
        self, principal: Principal, subject: ClientPseudonym, lang: str | None = None
    ) -> str:
        return render_html(self.access_report(principal, subject), lang)

    # --- erasure ------------------------------------------------------------------------------
    def acknowledge_erasure(
        self, principal: Principal, request: AcknowledgeRequest
    ) -> tuple[ErasureNoticeView, bool]:
        """A partner confirms it acted on an erasure notice to it; (notice, new)."""
        principal.require(_PARTNER)
        if principal.partner_id is None:
            raise Forbidden("this partner key names no partner")
        return acknowledge(self.service, principal.partner_id, principal.actor, request)

    def erasures_for(
        self, principal: Principal, subject: ClientPseudonym
    ) -> list[ErasureNoticeView]:
        principal.require(_OFFICER)
        return notices_for(self.service, subject)

    def recent_erasures(
        self, principal: Principal, days: int, status: ErasureStatus | None = None
    ) -> ErasureList:
        principal.require(_OFFICER)
        return recent_notices(self.service, days, status)

    # --- the officer's work ------------------------------------------------------------------
    def expiring(
        self, principal: Principal, days: int, limit: int, cursor: str | None = None
    ) -> ExpiringPage:
        principal.require(_OFFICER)
        records = self.service.expiring(days, limit, _cursor_in(cursor) if cursor else None)
        last = records[-1] if len(records) == limit else None
        next_cursor = None
        if last is not None and last.valid_until is not None:
            next_cursor = _cursor_out(last.valid_until, last.id)
        return ExpiringPage(
            days=days, consents=[self._view(r) for r in records], next_cursor=next_cursor
        )

    def export_disclosures(
        self, principal: Principal, window: Window, fmt: ExportFormat
    ) -> Iterator[str]:
        principal.require(_OFFICER)
        _check_window(window)
        return disclosure_lines(self.service.export_disclosures(window), fmt)

    def export_events(
        self, principal: Principal, window: Window, fmt: ExportFormat
    ) -> Iterator[str]:
        principal.require(_OFFICER)
        _check_window(window)
        return event_lines(self.service.export_events(window), fmt)

    def preview_bulk_withdrawal(
        self, principal: Principal, selection: BulkSelection
    ) -> BulkPreviewView:
        principal.require(_OFFICER)
        return BulkPreviewView.of(
            self.service.preview_bulk_withdrawal(selection, actor=principal.actor)
        )

    def bulk_withdraw(
        self, principal: Principal, request: BulkWithdrawRequest
    ) -> BulkWithdrawalView:
        principal.require(_OFFICER)
        outcome = self.service.bulk_withdraw(
            request.token, actor=principal.actor, reason=request.reason
        )
        return BulkWithdrawalView.of(outcome)

    # --- not personal -------------------------------------------------------------------------
    def policy(self, principal: Principal) -> PolicyView:
        principal.require(_OFFICER, _PARTNER, _MONITOR)
        policy = self.service.policy
        return PolicyView(
            version=policy.version,
            implied_categories=sorted(policy.implied_categories),
            matrix=policy.as_table(),
        )

    def stats(self, principal: Principal) -> StatsView:
        principal.require(_OFFICER, _MONITOR)
        return StatsView(
            generated_at=self.service.clock(),
            consents_by_status=self.service.status_counts(),
            policy_version=self.service.policy.version,
        )


def _check_window(window: Window) -> None:
    if window.since is not None and window.until is not None and window.until <= window.since:
        raise ConsentInvalid("until", "must be after from")


def _cursor_out(valid_until: datetime, consent_id: ConsentId) -> str:
    raw = json.dumps([valid_until.isoformat(), consent_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_in(cursor: str) -> tuple[datetime, ConsentId]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        until, consent_id = json.loads(raw)
        at = datetime.fromisoformat(until)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ConsentInvalid("cursor", "not a cursor this service gave") from exc
    if at.tzinfo is None or not isinstance(consent_id, str):
        raise ConsentInvalid("cursor", "not a cursor this service gave")
    return at, ConsentId(consent_id)
