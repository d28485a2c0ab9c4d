"""The console's pages for the officer's work: consents about to expire, the export
download forms, and bulk withdrawal (selection, preview with confirmation, done).

Built with the helpers of :mod:`consent.console.pages` (one layout, every value
escaped). Every sentence is one template with named fields (``{count}``), never pieced
together, so a translation can reorder it.
"""

from __future__ import annotations

from collections.abc import Sequence

from consent.api.dto import BulkPreviewView, BulkWithdrawalView, ExpiringPage
from consent.console.pages import (
    Layout,
    _csrf_field,
    _e,
    _errors,
    _options,
    _page,
    _select,
    _status,
    _table,
    _ts,
)
from consent.erasures import ErasureList, ErasureStatus, render_erasures, status_label
from consent.labels import label, recipients_label
from hub.i18n import N_, _
from schemas.vocabulary import Purpose
from topics.partners import Partner

__all__ = [
    "bulk_done_page",
    "bulk_page",
    "bulk_preview_page",
    "erasures_page",
    "expiring_page",
    "exports_page",
]

TEXT = {
    "expiring.title": N_("Consents about to expire"),
    "expiring.intro": N_(
        "Consents still given whose period ends within the next {days} days, soonest first."
    ),
    "expiring.days": N_("Within the next number of days (1-366)"),
    "expiring.show": N_("Show"),
    "expiring.empty": N_("No consent ends within the next {days} days."),
    "expiring.next": N_("Next page"),
    "expiring.caption": N_("Consents ending soon"),
    "expiring.col.until": N_("valid until"),
    "expiring.col.subject": N_("subject"),
    "expiring.col.consent": N_("consent"),
    "expiring.col.controller": N_("controller"),
    "expiring.col.recipients": N_("recipients"),
    "expiring.col.purposes": N_("purposes"),
    "exports.title": N_("Exports"),
    "exports.intro": N_(
        "Download for an audit, as CSV (for a spreadsheet) or JSON lines. Leave a filter "
        "empty to include everything."
    ),
    "exports.disclosures": N_("Disclosures"),
    "exports.disclosures.partner": N_("Recipient"),
    "exports.events": N_("Consent events"),
    "exports.events.partner": N_("Partner (controller or recipient)"),
    "exports.subject": N_("Client pseudonym"),
    "exports.from": N_("From (UTC date, included)"),
    "exports.until": N_("Until (UTC date, included)"),
    "exports.format": N_("Format"),
    "exports.any": N_("- any -"),
    "exports.download": N_("Download"),
    "bulk.title": N_("Bulk withdrawal"),
    "bulk.intro": N_(
        "Withdraw every consent still given that names a partner as recipient (for "
        "example a partner that leaves), or that is for a purpose. You see what it "
        "affects before you confirm."
    ),
    "bulk.recipient": N_("Partner named as recipient"),
    "bulk.purpose": N_("Purpose"),
    "bulk.none": N_("- none -"),
    "bulk.preview": N_("Preview"),
    "bulk.hint": N_(
        "Consents that name only a kind of partner (every municipality) are not "
        "selected: they also cover other partners."
    ),
    "bulk.preview.title": N_("Confirm the bulk withdrawal"),
    "bulk.preview.count": N_(
        "{count} consents of {subjects} subjects would be withdrawn. Each is published "
        "to the partners as a withdrawal."
    ),
    "bulk.preview.empty": N_("No consent matches this selection; there is nothing to withdraw."),
    "bulk.preview.expires": N_("This preview can be confirmed until {time}."),
    "bulk.preview.caption": N_("Subjects affected"),
    "bulk.reason": N_("Reason (recorded with each withdrawal)"),
    "bulk.confirm": N_("Withdraw these consents"),
    "bulk.cancel": N_("Cancel"),
    "bulk.done": N_("{count} consents are withdrawn; the hub no longer delivers on them."),
    "bulk.again": N_("Another bulk withdrawal"),
    "selection.recipient": N_("Recipient: {recipient}"),
    "selection.purpose": N_("Purpose: {purpose}"),
}
"""Every text of these pages, by key: English source texts marked for the gettext
catalogue (:mod:`hub.i18n`), translated when a page is rendered."""


def _t(key: str, **fields: object) -> str:
    return _(TEXT[key]).format(**fields)


# --- expiring ---------------------------------------------------------------------------------
def expiring_page(layout: Layout, page: ExpiringPage, cursor_url: str | None) -> str:
    rows = []
    for c in page.consents:
        rows.append(
            f"<tr><td>{_e(_ts(c.valid_until))}</td>"
            f'<td><a href="/console/subjects/{_e(c.subject)}#consent-{_e(c.id)}">'
            f"<code>{_e(c.subject)}</code></a></td>"
            f"<td><code>{_e(c.id)}</code></td>"
            f"<td>{_e(c.controller)}</td>"
            f"<td>{_e(recipients_label(c.recipients))}</td>"
            f"<td>{_e(', '.join(label(p) for p in c.purposes))}</td></tr>"
        )
    form = (
        '<form class="inline card" method="get" action="/console/expiring">'
        f'<label for="days">{_e(_t("expiring.days"))}</label>'
        f'<input type="text" inputmode="numeric" id="days" name="days" value="{page.days}" '
        'pattern="[0-9]{1,3}" required>'
        f'<button type="submit">{_e(_t("expiring.show"))}</button></form>'
    )
    more = (
        f'<p><a href="{_e(cursor_url)}" rel="next">{_e(_t("expiring.next"))}</a></p>'
        if cursor_url
        else ""
    )
    body = (
        f"<h1>{_e(_t('expiring.title'))}</h1>"
        f'<p class="meta">{_e(_t("expiring.intro", days=page.days))}</p>'
        + form
        + _table(
            _t("expiring.caption"),
            tuple(
                _t(f"expiring.col.{c}")
                for c in ("until", "subject", "consent", "controller", "recipients", "purposes")
            ),
            rows,
            _t("expiring.empty", days=page.days),
        )
        + more
    )
    return _page(_t("expiring.title"), body, layout)


# --- exports ----------------------------------------------------------------------------------
def _field(ident: str, label: str, control: str) -> str:
    return f'<div><label for="{ident}">{_e(label)}</label>{control}</div>'


def _export_form(kind: str, heading: str, partner_label: str, partners: Sequence[Partner]) -> str:
    i = f"export-{kind}"
    partner_choices = [(p.id, f"{p.name} ({p.id})") for p in partners]
    partner = _options(partner_choices, "", _t("exports.any"))
    formats = _options([("csv", "CSV"), ("json", _("JSON lines"))], "csv")
    # ids are unique on the page; names are the API's query parameters
    fields = (
        _field(f"{i}-p", partner_label, f'<select id="{i}-p" name="partner">{partner}</select>')
        + _field(
            f"{i}-s",
            _t("exports.subject"),
            f'<input type="text" id="{i}-s" name="subject" maxlength="128">',
        )
        + _field(f"{i}-f", _t("exports.from"), f'<input type="date" id="{i}-f" name="from">')
        + _field(f"{i}-u", _t("exports.until"), f'<input type="date" id="{i}-u" name="until">')
        + _field(
            f"{i}-fmt",
            _t("exports.format"),
            f'<select id="{i}-fmt" name="format">{formats}</select>',
        )
    )
    return (
        f'<form class="card" method="get" action="/console/exports/{kind}" '
        f'aria-labelledby="{i}-heading">'
        f'<h2 id="{i}-heading">{_e(heading)}</h2>'
        f'<div class="row">{fields}</div>'
        f'<p><button type="submit">{_e(_t("exports.download"))}</button></p></form>'
    )


def exports_page(
    layout: Layout, partners: Sequence[Partner], errors: Sequence[str] = (), status: int = 200
) -> str:
    body = (
        f"<h1>{_e(_t('exports.title'))}</h1>"
        + _errors(errors)
        + f'<p class="meta">{_e(_t("exports.intro"))}</p>'
        + _export_form(
            "disclosures",
            _t("exports.disclosures"),
            _t("exports.disclosures.partner"),
            partners,
        )
        + _export_form(
            "consent-events", _t("exports.events"), _t("exports.events.partner"), partners
        )
    )
    return _page(_t("exports.title"), body, layout)


# --- bulk withdrawal --------------------------------------------------------------------------
def bulk_page(layout: Layout, partners: Sequence[Partner], errors: Sequence[str] = ()) -> str:
    assert layout.csrf is not None
    choices = [(p.id, f"{p.name} ({p.id})") for p in partners]
    body = (
        f"<h1>{_e(_t('bulk.title'))}</h1>"
        + _errors(errors)
        + f'<p class="meta">{_e(_t("bulk.intro"))}</p>'
        '<form class="card" method="post" action="/console/bulk/preview">'
        + _csrf_field(layout.csrf)
        + '<div class="row">'
        + _select("recipient", _t("bulk.recipient"), choices, "", _t("bulk.none"))
        + _select(
            "purpose",
            _t("bulk.purpose"),
            [(p.value, label(p)) for p in Purpose],
            "",
            _t("bulk.none"),
        )
        + "</div>"
        f'<p class="hint">{_e(_t("bulk.hint"))}</p>'
        f'<p><button type="submit">{_e(_t("bulk.preview"))}</button></p></form>'
    )
    return _page(_t("bulk.title"), body, layout)


def _selection(recipient: str | None, purpose: Purpose | None) -> str:
    parts = []
    if recipient:
        parts.append(_t("selection.recipient", recipient=recipient))
    if purpose:
        parts.append(_t("selection.purpose", purpose=label(purpose)))
    return "; ".join(parts)


def bulk_preview_page(layout: Layout, preview: BulkPreviewView) -> str:
    assert layout.csrf is not None
    chosen = _selection(preview.selection.recipient, preview.selection.purpose)
    if not preview.count:
        body = (
            f"<h1>{_e(_t('bulk.preview.title'))}</h1>"
            f'<p class="meta">{_e(chosen)}</p>'
            + _status(_t("bulk.preview.empty"))
            + f'<p><a href="/console/bulk">{_e(_t("bulk.again"))}</a></p>'
        )
        return _page(_t("bulk.preview.title"), body, layout)
    subjects = "".join(
        f'<li><a href="/console/subjects/{_e(s)}"><code>{_e(s)}</code></a></li>'
        for s in preview.subjects
    )
    body = (
        f"<h1>{_e(_t('bulk.preview.title'))}</h1>"
        f'<p class="meta">{_e(chosen)}</p>'
        '<div class="alert" role="alert"><p id="bulk-count">'
        f"{_e(_t('bulk.preview.count', count=preview.count, subjects=len(preview.subjects)))}"
        "</p></div>"
        f'<h2 id="bulk-subjects">{_e(_t("bulk.preview.caption"))}</h2>'
        f'<ul aria-labelledby="bulk-subjects">{subjects}</ul>'
        '<form class="card" method="post" action="/console/bulk">'
        + _csrf_field(layout.csrf)
        + f'<input type="hidden" name="token" value="{_e(preview.token)}">'
        f'<p class="hint">{_e(_t("bulk.preview.expires", time=_ts(preview.expires_at)))}</p>'
        f'<label for="reason">{_e(_t("bulk.reason"))}</label>'
        '<input type="text" id="reason" name="reason" required maxlength="1000">'
        f'<p><button type="submit" class="danger">{_e(_t("bulk.confirm"))}</button> '
        f'<a href="/console/bulk">{_e(_t("bulk.cancel"))}</a></p></form>'
    )
    return _page(_t("bulk.preview.title"), body, layout)


def bulk_done_page(layout: Layout, done: BulkWithdrawalView) -> str:
    chosen = _selection(done.selection.recipient, done.selection.purpose)
    items = "".join(f"<li><code>{_e(c)}</code></li>" for c in done.consent_ids)
    body = (
        f"<h1>{_e(_t('bulk.title'))}</h1>"
        + _status(_t("bulk.done", count=done.count))
        + f'<p class="meta">{_e(chosen)}</p>'
        + (f"<ul>{items}</ul>" if items else "")
        + f'<p><a href="/console/bulk">{_e(_t("bulk.again"))}</a></p>'
    )
    return _page(_t("bulk.title"), body, layout)


# --- erasure notices --------------------------------------------------------------------------
def erasures_page(layout: Layout, found: ErasureList, status: ErasureStatus | None) -> str:
    """Erasure notices of consents that ended recently: which recipients acknowledged
    that they erased, which are still outstanding, and which are overdue."""
    choices = [(s.value, status_label(s)) for s in ErasureStatus]
    form = (
        '<form class="inline card" method="get" action="/console/erasures">'
        f'<label for="days">{_e(_("Consents that ended within the last number of days"))}</label>'
        f'<input type="text" inputmode="numeric" id="days" name="days" value="{found.days}" '
        'pattern="[0-9]{1,3}" required>'
        f'<label for="status">{_e(_("Status"))}</label>'
        f'<select id="status" name="status">'
        f"{_options(choices, status.value if status else '', _('- all -'))}</select>"
        f'<button type="submit">{_e(_("Show"))}</button></form>'
    )
    summary = _(
        "{overdue} overdue, {sent} sent and not yet acknowledged, {acknowledged} acknowledged."
    ).format(overdue=found.overdue, sent=found.sent, acknowledged=found.acknowledged)
    intro = _(
        "When a consent ends, every partner that received data under it gets an erasure "
        "notice. The partner confirms that it erased the data; a notice not confirmed "
        "within {days} days is overdue."
    ).format(days=7)
    body = (
        f"<h1>{_e(_('Erasure notices'))}</h1>"
        f'<p class="meta">{_e(intro)}</p>'
        + form
        + f'<p role="status" id="erasure-summary">{_e(summary)}</p>'
        + render_erasures(found.notices, with_subject=True)
    )
    return _page(_("Erasure notices"), body, layout)
