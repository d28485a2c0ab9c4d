"""Erasure that is confirmed: which erasure notices went out, and which recipients
acknowledged that they acted on them.

**Which notices went out.** When a consent ends (WITHDRAWN or EXPIRED), the router writes
an ``ErasureNotice`` to the inbox of every partner that received data about the subject
under that consent, with the event id ``UUIDv5(router namespace, "erasure" | consent
change event id | recipient)`` (``hub/router/ids.py``). The consent service holds both
halves of that rule - the consent's events and the disclosures read from the hub's audit
trail - so it derives the same notices, with the same ids, without reading any inbox
(:func:`notices_for`). A notice is *sent* from the moment the consent ended.

**Acknowledgement.** After erasing, the recipient calls ``POST /v1/erasure-
acknowledgements`` with its partner key and the notice's ``event_id``,
``consent_event_id`` and ``client_pseudonym`` (the SDK: :mod:`hub.sdk.erasure`). The
service accepts it only when that notice is one it derived for *this* partner, stores it
once (a repeat returns the stored one) and the notice is *acknowledged*. A notice not
acknowledged within :data:`ACK_DUE` is *overdue* (a metric and the console's list).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from consent.errors import ConsentInvalid, ConsentNotFound, Forbidden
from consent.labels import label
from consent.model import PSEUDONYM_PATTERN, ConsentEvent, DisclosureRecord
from consent.service import EXPIRING_METRIC_EVERY_S, ConsentService
from consent.store import ErasureAck, Window
from hub.i18n import _, format_datetime
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from schemas.models.enums import ConsentChangeType

__all__ = [
    "ACK_DUE",
    "OVERDUE_METRIC_DAYS",
    "ROUTER_NAMESPACE",
    "AcknowledgeRequest",
    "ErasureList",
    "ErasureNoticeView",
    "ErasureStatus",
    "OverdueGauge",
    "acknowledge",
    "erasure_notice_id",
    "notices_for",
    "recent_notices",
    "refresh_overdue_metric",
    "render_erasures",
]

ROUTER_NAMESPACE = uuid.UUID("3c1f7a52-9d0e-5b8a-a6f4-71e2c0d9b8a3")
"""The router's UUIDv5 namespace (``hub.router.ids.ROUTER_NAMESPACE``; a test keeps the
two equal - the consent service does not import the router)."""

ACK_DUE = timedelta(days=7)
"""How long a recipient has to acknowledge an erasure notice before it is overdue."""

_ENDED = (ConsentChangeType.WITHDRAWN, ConsentChangeType.EXPIRED)


def erasure_notice_id(consent_event_id: str, recipient: str) -> str:
    """The event id of the router's erasure notice to ``recipient`` for the consent
    change ``consent_event_id`` (the rule of ``hub.router.ids.erasure_id``)."""
    return str(uuid.uuid5(ROUTER_NAMESPACE, "\x1f".join(("erasure", consent_event_id, recipient))))


class ErasureStatus(StrEnum):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    OVERDUE = "overdue"


class ErasureNoticeView(BaseModel):
    """One erasure notice to one recipient, and whether it was acknowledged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice_id: EventId
    subject: ClientPseudonym
    consent_id: ConsentId
    consent_event_id: EventId
    change: ConsentChangeType
    ended_at: AwareDatetime
    recipient: PartnerId
    recipient_name: str
    status: ErasureStatus
    due_at: AwareDatetime
    acknowledged_at: AwareDatetime | None = None
    erased_at: AwareDatetime | None = None


class ErasureList(BaseModel):
    """Erasure notices of consents that ended in the last ``days`` days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int
    sent: int
    acknowledged: int
    overdue: int
    notices: list[ErasureNoticeView]


class AcknowledgeRequest(BaseModel):
    """A recipient confirms it erased what an erasure notice asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice_id: EventId = Field(description="The event id (ce_id) of the ErasureNotice.")
    consent_event_id: EventId = Field(description="The notice's consent_event_id.")
    client_pseudonym: ClientPseudonym = Field(
        pattern=PSEUDONYM_PATTERN, description="The notice's client_pseudonym."
    )
    erased_at: AwareDatetime | None = Field(
        default=None, description="When the data was erased (default: now)."
    )


def _views(
    service: ConsentService,
    ended: Iterable[ConsentEvent],
    disclosures: Iterable[DisclosureRecord],
    acks: Iterable[ErasureAck],
    now: datetime,
) -> list[ErasureNoticeView]:
    received: dict[str, set[str]] = {}
    for d in disclosures:
        for consent_id in d.consent_ids:
            received.setdefault(consent_id, set()).add(d.recipient)
    acked = {a.notice_id: a for a in acks}
    views = []
    for event in ended:
        for recipient in sorted(received.get(event.consent_id, ())):
            notice = erasure_notice_id(event.event_id, recipient)
            ack = acked.get(EventId(notice))
            due = event.recorded_at + ACK_DUE
            if ack is not None:
                status = ErasureStatus.ACKNOWLEDGED
            elif now > due:
                status = ErasureStatus.OVERDUE
            else:
                status = ErasureStatus.SENT
            partner = service.partner(recipient)
            views.append(
                ErasureNoticeView(
                    notice_id=EventId(notice),
                    subject=event.subject,
                    consent_id=event.consent_id,
                    consent_event_id=event.event_id,
                    change=event.change,
                    ended_at=event.recorded_at,
                    recipient=PartnerId(recipient),
                    recipient_name=partner.name if partner else recipient,
                    status=status,
                    due_at=due,
                    acknowledged_at=ack.recorded_at if ack else None,
                    erased_at=ack.erased_at if ack else None,
                )
            )
    return views


OVERDUE_METRIC_DAYS = 90
"""``rmt_erasure_acks_overdue`` counts the overdue notices of consents ended this recently."""


def refresh_overdue_metric(service: ConsentService) -> int:
    """Set ``rmt_erasure_acks_overdue`` (when the service has metrics); return the count."""
    count = recent_notices(service, OVERDUE_METRIC_DAYS, ErasureStatus.OVERDUE, limit=1).overdue
    if service.metrics is not None:
        service.metrics.set_erasure_acks_overdue(count)
    return count


class OverdueGauge:
    """Recounts ``rmt_erasure_acks_overdue`` at most every ``every_s`` seconds (the consent
    service's background loop calls it after each cycle, like the expiring-consents gauge)."""

    def __init__(self, service: ConsentService, every_s: float = EXPIRING_METRIC_EVERY_S) -> None:
        self.service = service
        self.every_s = every_s
        self._at: float | None = None

    def __call__(self) -> None:
        now = time.monotonic()
        if self._at is None or now - self._at >= self.every_s:
            self._at = now
            refresh_overdue_metric(self.service)


def notices_for(service: ConsentService, subject: ClientPseudonym) -> list[ErasureNoticeView]:
    """The erasure notices about ``subject``, oldest first, with their acknowledgements."""
    store = service.store
    ended = [e for e in store.events(subject=subject) if e.change in _ENDED]
    if not ended:
        return []
    return _views(
        service,
        ended,
        store.disclosures_for(subject),
        store.erasure_acks_for(subject),
        service.clock(),
    )


def recent_notices(
    service: ConsentService, days: int, status: ErasureStatus | None = None, limit: int = 1000
) -> ErasureList:
    """The erasure notices of consents that ended in the last ``days`` days (at most
    ``limit``): overdue first, then sent, then acknowledged; newest first within each."""
    now = service.clock()
    store = service.store
    window = Window(since=now - timedelta(days=days))
    ended: dict[ClientPseudonym, list[ConsentEvent]] = {}
    after = 0
    while True:
        page = store.event_page(window, after, 500)
        for event in page:
            if event.change in _ENDED:
                ended.setdefault(event.subject, []).append(event)
        if len(page) < 500:
            break
        after = page[-1].seq
    views: list[ErasureNoticeView] = []
    for subject, events in ended.items():
        views += _views(
            service,
            events,
            store.disclosures_for(subject),
            store.erasure_acks_for(subject),
            now,
        )
    counts = {s: sum(v.status is s for v in views) for s in ErasureStatus}
    order = {ErasureStatus.OVERDUE: 0, ErasureStatus.SENT: 1, ErasureStatus.ACKNOWLEDGED: 2}
    chosen = [v for v in views if status is None or v.status is status]
    chosen.sort(key=lambda v: (order[v.status], -v.ended_at.timestamp(), v.recipient))
    return ErasureList(
        days=days,
        sent=counts[ErasureStatus.SENT],
        acknowledged=counts[ErasureStatus.ACKNOWLEDGED],
        overdue=counts[ErasureStatus.OVERDUE],
        notices=chosen[:limit],
    )


def acknowledge(
    service: ConsentService, partner: PartnerId, actor: str, request: AcknowledgeRequest
) -> tuple[ErasureNoticeView, bool]:
    """Record that ``partner`` acted on the notice; (the notice now, whether it is new).

    Refused unless the notice is one the router sent to ``partner`` by the rule above:
    another partner's notice id is Forbidden, an unknown one NotFound.
    """
    if erasure_notice_id(request.consent_event_id, partner) != request.notice_id:
        raise Forbidden("this erasure notice was not sent to this partner")
    notices = {n.notice_id: n for n in notices_for(service, request.client_pseudonym)}
    notice = notices.get(request.notice_id)
    if notice is None:
        raise ConsentNotFound(
            "no erasure notice with this id about this subject (has the consent ended, and "
            "did this partner receive data under it?)"
        )
    now = service.clock()
    erased_at = request.erased_at or now
    if erased_at > now + timedelta(minutes=5):
        raise ConsentInvalid("erased_at", "lies in the future")
    before = notice.status is ErasureStatus.ACKNOWLEDGED
    stored = service.store.add_erasure_ack(
        ErasureAck(
            notice_id=notice.notice_id,
            subject=notice.subject,
            consent_id=notice.consent_id,
            consent_event_id=notice.consent_event_id,
            recipient=partner,
            erased_at=erased_at,
            recorded_at=now,
            actor=actor,
        )
    )
    done = notice.model_copy(
        update={
            "status": ErasureStatus.ACKNOWLEDGED,
            "acknowledged_at": stored.recorded_at,
            "erased_at": stored.erased_at,
        }
    )
    return done, not before


# --- the pages ------------------------------------------------------------------------------
def status_label(status: ErasureStatus) -> str:
    return {
        ErasureStatus.SENT: _("sent"),
        ErasureStatus.ACKNOWLEDGED: _("acknowledged"),
        ErasureStatus.OVERDUE: _("overdue"),
    }[status]


def render_erasures(notices: Iterable[ErasureNoticeView], *, with_subject: bool = False) -> str:
    """A table of erasure notices (every value escaped), or a sentence when there are none."""
    rows = []
    for n in notices:
        subject = (
            f'<td><a href="/console/subjects/{escape(n.subject)}"><code>{escape(n.subject)}'
            "</code></a></td>"
            if with_subject
            else ""
        )
        if n.status is ErasureStatus.ACKNOWLEDGED:
            answer = _("acknowledged {time} (erased {erased})").format(
                time=format_datetime(n.acknowledged_at), erased=format_datetime(n.erased_at)
            )
        else:
            answer = _("due {time}").format(time=format_datetime(n.due_at))
        rows.append(
            f'<tr id="erasure-{escape(n.notice_id)}" data-status="{escape(n.status)}">'
            f"<td>{escape(format_datetime(n.ended_at))}</td>{subject}"
            f"<td><code>{escape(n.consent_id)}</code> ({escape(label(n.change))})</td>"
            f"<td>{escape(n.recipient_name)} ({escape(n.recipient)})</td>"
            f'<td><span class="badge erasure-{escape(n.status)}">'
            f"{escape(status_label(n.status))}</span></td>"
            f"<td>{escape(answer)}</td></tr>"
        )
    if not rows:
        return f'<p class="empty">{escape(_("No erasure notices went out."))}</p>'
    heads = [_("consent ended")]
    if with_subject:
        heads.append(_("subject"))
    heads += [_("consent"), _("recipient"), _("status"), _("acknowledgement")]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in heads)
    return (
        f'<table class="erasures"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
