"""The subject access report: who received what about me, when, on which basis.

Built from the register (the subject's consents and their history) and the disclosure
records (what the hub forwarded to whom; written by the router through
:meth:`consent.service.ConsentService.record_disclosure`). Served as JSON and as a
self-contained HTML page a privacy officer can hand to the job seeker. It never
contains the BSN, only whether one is on file.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from pydantic import BaseModel, ConfigDict

from consent.model import CollectionMethod, ConsentChangeType, ConsentStatus, LegalBasis
from consent.service import ConsentService
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.vocabulary import DataCategory, PartnerKind, Purpose

__all__ = [
    "AccessReport",
    "ReportBasis",
    "ReportConsent",
    "ReportDisclosure",
    "ReportEvent",
    "build_access_report",
    "render_html",
    "render_meta",
    "render_sections",
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


class AccessReport(_Model):
    subject: ClientPseudonym
    generated_at: datetime
    bsn_on_file: bool
    policy_version: str
    consents: tuple[ReportConsent, ...]
    disclosures: tuple[ReportDisclosure, ...]
    history: tuple[ReportEvent, ...]


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
    )


def _ts(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


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
"""


def render_sections(report: AccessReport) -> str:
    """The report's sections (``<h2>`` and a table each; every value escaped), for the
    stand-alone page and the privacy officer console."""
    disclosures = [
        _cells(
            _ts(d.disclosed_at),
            f"{d.recipient_name} ({d.recipient})",
            d.purpose,
            ", ".join(d.data_categories)
            + (f" (fields: {', '.join(d.fields)})" if d.fields else "")
            + (f" in {d.record_type}" if d.record_type else ""),
            "; ".join(
                f"consent {b.consent_id} ({b.legal_basis or 'unknown'}, now {b.status_now or '?'})"
                for b in d.basis
            )
            or "-",
        )
        for d in report.disclosures
    ]
    consents = [
        _cells(
            c.consent_id,
            c.status_now,
            f"{c.controller_name} ({c.controller})",
            ", ".join(c.recipients),
            ", ".join(c.purposes),
            ", ".join(c.data_categories),
            c.legal_basis,
            f"{_ts(c.valid_from)} - {_ts(c.valid_until) if c.valid_until else 'no end date'}",
            f"{_ts(c.recorded_at)} by {c.recorded_by} ({c.collection_method}, notice "
            f"{c.notice_version})",
        )
        for c in report.consents
    ]
    history = [_cells(_ts(e.recorded_at), e.change, e.consent_id, e.actor) for e in report.history]
    return (
        "<h2>Data disclosed to partners</h2>"
        + _table(
            ("when", "recipient", "purpose", "data", "basis"),
            disclosures,
            "No disclosures are recorded for you.",
        )
        + "<h2>Your consents</h2>"
        + _table(
            (
                "consent",
                "status",
                "controller",
                "recipients",
                "purposes",
                "data",
                "legal basis",
                "valid",
                "recorded",
            ),
            consents,
            "No consents are recorded for you.",
        )
        + "<h2>History of your consents</h2>"
        + _table(("when", "change", "consent", "by"), history, "No changes recorded.")
    )


def render_meta(report: AccessReport) -> str:
    """The line under the title: when, by whom, which matrix, whether a BSN is on file."""
    return (
        f"Generated {_ts(report.generated_at)} by the consent register of the regional "
        f"mobility teams; policy matrix {escape(report.policy_version)}. Citizen service "
        f"number on file: {'yes (encrypted)' if report.bsn_on_file else 'no'}."
    )


def render_html(report: AccessReport) -> str:
    """A self-contained HTML page of the report (every value escaped)."""
    subject = escape(report.subject)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>Access report {subject}</title>'
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Who received what about you: subject {subject}</h1>"
        f'<p class="meta">{render_meta(report)}</p>' + render_sections(report) + "</body></html>\n"
    )
