"""The subject access report: who received what about me, when, on which basis.

Built from the register (the subject's consents and their history) and the disclosure
records (what the hub forwarded to whom, read from the router's audit trail by
:class:`consent.disclosures.DisclosureIngester`). Served as JSON and as a
self-contained HTML page a privacy officer can hand to the job seeker. It never
contains the BSN, only whether one is on file.

**It proves itself.** The report does not trust the audit topic: it says whether each
disclosure is an entry the hub signed in an unbroken hash chain (``verification``):
*verified*; *broken chain* (entries removed, reordered or changed anywhere on the trail,
so disclosures may be missing: the first break of each partition is named); *bad
signature* (records about the subject on the trail that are not the hub's: listed apart,
never as disclosures); *unverified* (disclosures not read from the signed trail, e.g.
with record security off).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from html import escape

from pydantic import BaseModel, ConfigDict

from consent.erasures import ErasureNoticeView, notices_for, render_erasures
from consent.labels import label, labels
from consent.model import CollectionMethod, ConsentChangeType, ConsentStatus, LegalBasis
from consent.service import ConsentService
from hub.i18n import _, current, format_datetime, language, ngettext
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.vocabulary import DataCategory, PartnerKind, Purpose

__all__ = [
    "AccessReport",
    "AuditStatus",
    "ReportBasis",
    "ReportChainBreak",
    "ReportConsent",
    "ReportDisclosure",
    "ReportEvent",
    "ReportRejected",
    "ReportVerification",
    "build_access_report",
    "render_html",
    "render_meta",
    "render_sections",
    "render_verification",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportBasis(_Model):
    """A consent a disclosure rested on, and its legal basis."""

    consent_id: ConsentId
    legal_basis: LegalBasis | None
    status_now: ConsentStatus | None


class ReportDisclosure(_Model):
    disclosed_at: datetime
    recipient: PartnerId
    recipient_name: str
    recipient_kind: PartnerKind
    purpose: Purpose
    data_categories: tuple[DataCategory, ...]
    fields: tuple[str, ...]
    basis: tuple[ReportBasis, ...]
    record_type: str | None
    verified: bool = False
    audit_entry: str | None = None  # "<topic> partition P offset O (seq S)"


class ReportConsent(_Model):
    consent_id: ConsentId
    status_now: ConsentStatus
    controller: PartnerId
    controller_name: str
    recipients: tuple[str, ...]
    purposes: tuple[Purpose, ...]
    data_categories: tuple[DataCategory, ...]
    legal_basis: LegalBasis
    valid_from: datetime
    valid_until: datetime | None
    recorded_at: datetime
    recorded_by: str
    collection_method: CollectionMethod
    notice_version: str
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


class ReportEvent(_Model):
    recorded_at: datetime
    change: ConsentChangeType
    consent_id: ConsentId
    actor: str


class AuditStatus(StrEnum):
    VERIFIED = "verified"
    BROKEN_CHAIN = "broken chain"
    BAD_SIGNATURE = "bad signature"
    UNVERIFIED = "unverified"


class ReportChainBreak(_Model):
    topic: str
    partition: int
    offset: int | None
    reason: str
    detail: str


class ReportRejected(_Model):
    """A record about the subject on the audit trail that is not the hub's."""

    topic: str
    partition: int
    offset: int
    check: str
    detail: str
    claimed_recipient: PartnerId | None
    claimed_at: datetime | None


class ReportVerification(_Model):
    status: AuditStatus
    summary: str
    verified: int
    unverified: int
    breaks: tuple[ReportChainBreak, ...]
    rejected: tuple[ReportRejected, ...]


class AccessReport(_Model):
    subject: ClientPseudonym
    generated_at: datetime
    bsn_on_file: bool
    policy_version: str
    consents: tuple[ReportConsent, ...]
    disclosures: tuple[ReportDisclosure, ...]
    history: tuple[ReportEvent, ...]
    verification: ReportVerification
    erasures: tuple[ErasureNoticeView, ...] = ()
    """The erasure notices that went out when a consent ended, each with its recipient's
    acknowledgement (:mod:`consent.erasures`)."""


def build_access_report(service: ConsentService, subject: ClientPseudonym) -> AccessReport:
    """The report for ``subject`` as of now (empty lists when nothing is on record)."""
    now = service.clock()
    records = service.for_subject(subject)
    by_id = {r.id: r for r in records}

    def name(partner_id: str) -> str:
        partner = service.partner(partner_id)
        return partner.name if partner else partner_id

    consents = tuple(
        ReportConsent(
            consent_id=r.id,
            status_now=r.status_at(now),
            controller=r.controller,
            controller_name=name(r.controller),
            recipients=tuple(x.label() for x in r.recipients),
            purposes=r.purposes,
            data_categories=r.data_categories,
            legal_basis=r.legal_basis,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            recorded_at=r.proof.recorded_at,
            recorded_by=r.proof.recorded_by,
            collection_method=r.proof.collection_method,
            notice_version=r.notice.version,
            withdrawn_at=r.withdrawal.withdrawn_at if r.withdrawal else None,
            withdrawal_reason=r.withdrawal.reason if r.withdrawal else None,
        )
        for r in records
    )
    disclosures = tuple(
        ReportDisclosure(
            disclosed_at=d.disclosed_at,
            recipient=d.recipient,
            recipient_name=name(d.recipient),
            recipient_kind=d.recipient_kind,
            purpose=d.purpose,
            data_categories=d.data_categories,
            fields=d.fields,
            basis=tuple(
                ReportBasis(
                    consent_id=cid,
                    legal_basis=by_id[cid].legal_basis if cid in by_id else None,
                    status_now=by_id[cid].status_at(now) if cid in by_id else None,
                )
                for cid in d.consent_ids
            ),
            record_type=d.record_type,
            verified=d.proof is not None,
            audit_entry=(
                f"{d.proof.topic} partition {d.proof.partition} offset {d.proof.offset} "
                f"(seq {d.proof.seq})"
            )
            if d.proof
            else None,
        )
        for d in service.disclosures(subject)
    )
    history = tuple(
        ReportEvent(
            recorded_at=e.recorded_at, change=e.change, consent_id=e.consent_id, actor=e.actor
        )
        for e in service.store.events(subject=subject)
    )
    return AccessReport(
        subject=subject,
        generated_at=now,
        bsn_on_file=service.bsn_on_file(subject),
        policy_version=service.policy.version,
        consents=consents,
        disclosures=disclosures,
        history=history,
        verification=_verification(service, subject, disclosures),
        erasures=tuple(notices_for(service, subject)),
    )


def _verification(
    service: ConsentService, subject: ClientPseudonym, disclosures: tuple[ReportDisclosure, ...]
) -> ReportVerification:
    """What the audit trail proves about these disclosures (see the module docs)."""
    breaks = tuple(
        ReportChainBreak(
            topic=c.topic,
            partition=c.partition,
            offset=c.first_break.offset,
            reason=c.first_break.reason,
            detail=c.first_break.detail,
        )
        for c in service.store.audit_chains()
        if c.first_break is not None
    )
    rejected = tuple(
        ReportRejected(
            topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            check=r.check,
            detail=r.detail,
            claimed_recipient=r.claimed.recipient if r.claimed else None,
            claimed_at=r.claimed.disclosed_at if r.claimed else None,
        )
        for r in service.store.audit_rejects_for(subject)
    )
    verified = sum(d.verified for d in disclosures)
    unverified = len(disclosures) - verified
    if breaks:
        first = breaks[0]
        where = "the end" if first.offset is None else f"entry {first.offset}"
        status = AuditStatus.BROKEN_CHAIN
        summary = (
            f"broken chain at {where} of {first.topic} partition {first.partition} "
            f"({first.reason}: {first.detail})"
            + (f" and {len(breaks) - 1} more" if len(breaks) > 1 else "")
            + ": disclosures may be missing from this report or changed"
        )
    elif rejected:
        status = AuditStatus.BAD_SIGNATURE
        summary = (
            f"bad signature: {len(rejected)} record(s) about this subject on the audit trail "
            "are not entries of the hub; they are listed apart and are not disclosures"
        )
    elif unverified:
        status = AuditStatus.UNVERIFIED
        summary = (
            f"unverified: {unverified} of {len(disclosures)} disclosures were not read from "
            "the hub's signed audit trail"
        )
    else:
        status = AuditStatus.VERIFIED
        summary = (
            f"verified: each of the {verified} disclosures is an entry signed by the hub in "
            "an unbroken audit chain"
            if verified
            else "verified: no disclosures, and no record about this subject on the audit "
            "trail fails verification"
        )
    return ReportVerification(
        status=status,
        summary=summary,
        verified=verified,
        unverified=unverified,
        breaks=breaks,
        rejected=rejected,
    )


def _ts(value: datetime | None) -> str:
    return format_datetime(value)


def _cells(*values: object) -> str:
    return "".join(f"<td>{escape(str(v))}</td>" for v in values)


def _table(headers: tuple[str, ...], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:75rem;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}.empty{color:#666;font-style:italic}
.meta{color:#555;font-size:.85rem}
.verification{padding:.5rem .75rem;border-left:.3rem solid}
.verified{border-color:#2e7d32;background:#edf7ee}.unverified{border-color:#c62828;background:#fdecea}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.25rem;font-weight:600;
font-size:.8rem;border:1px solid}
.erasure-acknowledged{background:#e3f4e8;color:#14532d}.erasure-sent{background:#eef1f4;color:#333}
.erasure-overdue{background:#fdecea;color:#8b1a1a}
"""


def _summary(check: ReportVerification, total: int) -> str:
    """The verification summary in the page's language (the JSON keeps its English one)."""
    if check.breaks:
        first = check.breaks[0]
        where = (
            _("the end")
            if first.offset is None
            else _("entry {offset}").format(offset=first.offset)
        )
        text = _(
            "broken chain at {where} of {topic} partition {partition} ({reason}: {detail})"
        ).format(
            where=where,
            topic=first.topic,
            partition=first.partition,
            reason=first.reason,
            detail=first.detail,
        )
        if len(check.breaks) > 1:
            text += " " + _("and {count} more").format(count=len(check.breaks) - 1)
        return text + ": " + _("disclosures may be missing from this report or changed")
    if check.rejected:
        return ngettext(
            "bad signature: {count} record about this subject on the audit trail is not an "
            "entry of the hub; it is listed apart and is not a disclosure",
            "bad signature: {count} records about this subject on the audit trail are not "
            "entries of the hub; they are listed apart and are not disclosures",
            len(check.rejected),
        ).format(count=len(check.rejected))
    if check.unverified:
        return _(
            "unverified: {unverified} of {total} disclosures were not read from the hub's "
            "signed audit trail"
        ).format(unverified=check.unverified, total=total)
    if check.verified:
        return ngettext(
            "verified: the disclosure is an entry signed by the hub in an unbroken audit chain",
            "verified: each of the {count} disclosures is an entry signed by the hub in an "
            "unbroken audit chain",
            check.verified,
        ).format(count=check.verified)
    return _(
        "verified: no disclosures, and no record about this subject on the audit trail "
        "fails verification"
    )


def render_verification(report: AccessReport) -> str:
    """The status line of the audit trail's proof (an alert unless verified)."""
    check = report.verification
    ok = check.status is AuditStatus.VERIFIED
    role = "status" if ok else "alert"
    css = "verified" if ok else "unverified"
    summary = _summary(check, len(report.disclosures))
    return (
        f'<p class="verification {css}" role="{role}" data-status="{escape(check.status)}">'
        f"{escape(_('Audit trail:'))} <strong>{escape(summary)}</strong></p>"
    )


def _basis(b: ReportBasis) -> str:
    return _("consent {consent} ({basis}, now {status})").format(
        consent=b.consent_id,
        basis=label(b.legal_basis, _("unknown")),
        status=label(b.status_now, "?"),
    )


def _data(d: ReportDisclosure) -> str:
    text = labels(d.data_categories)
    if d.fields:
        text += " " + _("(fields: {fields})").format(fields=", ".join(d.fields))
    if d.record_type:
        text += " " + _("in {record_type}").format(record_type=d.record_type)
    return text


def render_sections(report: AccessReport) -> str:
    """The report's sections (``<h2>`` and a table each; every value escaped), for the
    stand-alone page and the privacy officer console."""
    disclosures = [
        _cells(
            _ts(d.disclosed_at),
            f"{d.recipient_name} ({d.recipient})",
            label(d.purpose),
            _data(d),
            "; ".join(_basis(b) for b in d.basis) or "-",
            _("verified") if d.verified else _("not verified"),
        )
        for d in report.disclosures
    ]
    rejected = [
        _cells(
            _("{topic} partition {partition} offset {offset}").format(
                topic=r.topic, partition=r.partition, offset=r.offset
            ),
            f"{r.check}: {r.detail}",
            r.claimed_recipient or "-",
            _ts(r.claimed_at),
        )
        for r in report.verification.rejected
    ]
    breaks = [
        _cells(
            _("{topic} partition {partition}").format(topic=b.topic, partition=b.partition),
            "-" if b.offset is None else b.offset,
            f"{b.reason}: {b.detail}",
        )
        for b in report.verification.breaks
    ]
    problems = ""
    foreign = _("Records that are not the hub's (not disclosures)")
    if breaks:
        problems += f"<h2>{escape(_('Breaks in the audit trail'))}</h2>" + _table(
            (_("partition"), _("entry"), _("what")), breaks, ""
        )
    if rejected:
        problems += f"<h2>{escape(foreign, quote=False)}</h2>" + _table(
            (_("where"), _("why"), _("claimed recipient"), _("claimed time")), rejected, ""
        )
    consents = [
        _cells(
            c.consent_id,
            label(c.status_now),
            f"{c.controller_name} ({c.controller})",
            ", ".join(c.recipients),
            labels(c.purposes),
            labels(c.data_categories),
            label(c.legal_basis),
            f"{_ts(c.valid_from)} - {_ts(c.valid_until) if c.valid_until else _('no end date')}",
            _("{time} by {actor} ({method}, notice {notice})").format(
                time=_ts(c.recorded_at),
                actor=c.recorded_by,
                method=label(c.collection_method),
                notice=c.notice_version,
            ),
        )
        for c in report.consents
    ]
    history = [
        _cells(_ts(e.recorded_at), label(e.change), e.consent_id, e.actor) for e in report.history
    ]
    return (
        f"<h2>{escape(_('Data disclosed to partners'))}</h2>"
        + _table(
            (_("when"), _("recipient"), _("purpose"), _("data"), _("basis"), _("audit trail")),
            disclosures,
            _("No disclosures are recorded for you."),
        )
        + problems
        + f"<h2>{escape(_('Your consents'))}</h2>"
        + _table(
            (
                _("consent"),
                _("status"),
                _("controller"),
                _("recipients"),
                _("purposes"),
                _("data"),
                _("legal basis"),
                _("valid"),
                _("recorded"),
            ),
            consents,
            _("No consents are recorded for you."),
        )
        + f"<h2>{escape(_('Erasure notices to the recipients'))}</h2>"
        + render_erasures(report.erasures)
        + f"<h2>{escape(_('History of your consents'))}</h2>"
        + _table(
            (_("when"), _("change"), _("consent"), _("by")),
            history,
            _("No changes recorded."),
        )
    )


def render_meta(report: AccessReport) -> str:
    """The line under the title: when, by whom, which matrix, whether a BSN is on file."""
    on_file = _("yes (encrypted)") if report.bsn_on_file else _("no")
    return escape(
        _(
            "Generated {time} by the consent register of the regional mobility teams; policy "
            "matrix {version}. Citizen service number on file: {answer}."
        ).format(time=_ts(report.generated_at), version=report.policy_version, answer=on_file)
    )


def render_html(report: AccessReport, lang: str | None = None) -> str:
    """A self-contained HTML page of the report (every value escaped), in ``lang``
    (None: the language of the request being served, Dutch by default)."""
    with language(lang or current()) as chosen:
        subject = escape(report.subject)
        title = escape(_("Access report {subject}").format(subject=report.subject))
        heading = escape(_("Who received what about you: subject {subject}")).format(
            subject=f"<code>{subject}</code>"
        )
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{chosen}"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style></head><body>"
            f"<h1>{heading}</h1>"
            f'<p class="meta">{render_meta(report)}</p>'
            + render_verification(report)
            + render_sections(report)
            + "</body></html>\n"
        )
