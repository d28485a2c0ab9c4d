"""The console's pages as HTML strings: one layout, every value escaped, no scripts.

Server-rendered, self-contained (inline CSS, no external assets, no JavaScript), so the
Content-Security-Policy can forbid everything but this one stylesheet (by its hash).
Accessible: a skip link, landmarks, one ``<h1>`` per page, a label for every control,
``<fieldset>``/``<legend>`` around checkbox groups, an error summary with
``role="alert"``, status messages with ``role="status"``, table headers with ``scope``,
visible focus, and statuses spelled out in text (not only in colour).

A BSN is never rendered: forms that take one are never refilled with it.

Every text is English source marked with ``_()`` and shown in the page's language
(:mod:`hub.i18n`: Dutch unless English is asked for); codes of the vocabulary are shown
with :mod:`consent.labels`, dates with Babel.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from html import escape

from consent.api.dto import PolicyView, SubjectConsents
from consent.labels import label, labels, recipients_label
from consent.model import CollectionMethod, ConsentStatus, LegalBasis
from consent.report import AccessReport, render_meta, render_sections, render_verification
from hub import __version__
from hub.i18n import _, current, format_datetime
from schemas.regions import Region
from schemas.vocabulary import DataCategory, JobSeekerCategory, PartnerKind, Purpose
from topics.partners import Partner

__all__ = [
    "CSP",
    "DEFAULT_NOTICE_VERSION",
    "PAGE_PATH",
    "GrantFormValues",
    "Layout",
    "error_page",
    "login_page",
    "policy_page",
    "report_page",
    "search_page",
    "subject_page",
]

DEFAULT_NOTICE_VERSION = "rmt-privacy-2026.1"

_STYLE = """
:root{--ink:#1b1b1b;--muted:#555;--line:#c8c8c8;--accent:#01689b;--bg:#f5f7f9}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--ink);
line-height:1.45;background:#fff}
a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,summary:focus{
outline:3px solid #ffb612;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
header{background:var(--accent);color:#fff;padding:.75rem 2rem;display:flex;flex-wrap:wrap;
gap:1rem;align-items:center;justify-content:space-between}
header a{color:#fff}header .brand{font-weight:600;font-size:1.05rem}
header nav ul{list-style:none;margin:0;padding:0;display:flex;gap:1.25rem;align-items:center}
header form{margin:0}header button{background:#fff;color:var(--accent);border:0}
main{padding:1.5rem 2rem;max-width:90rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4}.empty{color:var(--muted);font-style:italic}
.meta,.hint{color:var(--muted);font-size:.85rem}
.verification{padding:.5rem .75rem;border-left:.3rem solid}
.verified{border-color:#14532d;background:#e3f4e8}.unverified{border-color:#8b1a1a;background:#fdecea}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.25rem;font-weight:600;
font-size:.8rem;border:1px solid}
.GIVEN{background:#e3f4e8;color:#14532d;border-color:#14532d}
.WITHDRAWN{background:#eee;color:#333;border-color:#333}
.EXPIRED{background:#fff3d6;color:#6b4500;border-color:#6b4500}
.erasure-acknowledged{background:#e3f4e8;color:#14532d;border-color:#14532d}
.erasure-sent{background:#eef1f4;color:#333;border-color:#333}
.erasure-overdue{background:#fdecea;color:#8b1a1a;border-color:#8b1a1a}
form.card,section.card{background:var(--bg);border:1px solid var(--line);border-radius:.4rem;
padding:1rem 1.25rem;margin:1rem 0}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
fieldset{border:1px solid var(--line);margin:.75rem 0;padding:.5rem .75rem}
legend{font-weight:600;padding:0 .25rem}
fieldset label{display:inline-block;font-weight:400;margin:.15rem 1.1rem .15rem 0}
input[type=text],input[type=password],input[type=date],input[type=url],select{font:inherit;
padding:.35rem .45rem;border:1px solid #767676;border-radius:.2rem;min-width:16rem;max-width:100%}
button{font:inherit;padding:.4rem .9rem;border-radius:.25rem;border:1px solid var(--accent);
background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:#a4262c;border-color:#a4262c}
.row{display:flex;flex-wrap:wrap;gap:0 2rem}
.alert{border:2px solid #a4262c;background:#fdecea;padding:.75rem 1rem;margin:1rem 0}
.status{border:2px solid #14532d;background:#e3f4e8;padding:.75rem 1rem;margin:1rem 0}
.inline{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:0}
.inline label{display:inline;font-weight:400;margin:0}
.inline input[type=text]{min-width:10rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
footer{padding:1rem 2rem;color:var(--muted);font-size:.8rem}
.scroll{overflow-x:auto}
#policy-matrix{font-size:.8rem}#policy-matrix td{min-width:8rem}
"""

CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()}'; "
    "img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""The Content-Security-Policy of every console page: only its own inline stylesheet."""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _ts(value: datetime | None) -> str:
    return format_datetime(value)


PAGE_PATH: ContextVar[str] = ContextVar("console_page_path", default="/console/subjects")
"""The GET path of the page being rendered: where the language switch leads back to."""


@dataclass(frozen=True, slots=True)
class Layout:
    """What every page around its content shows: the officer, and the CSRF token."""

    officer: str | None = None
    csrf: str | None = None


def _switch() -> str:
    """A link to the same page in the other language (the choice is remembered)."""
    other = "en" if current() == "nl" else "nl"
    name = "English" if other == "en" else "Nederlands"
    href = f"{PAGE_PATH.get()}?lang={other}"
    return f'<a href="{_e(href)}" hreflang="{other}" lang="{other}" class="lang">{name}</a>'


def _page(title: str, body: str, layout: Layout) -> str:
    footer = _("rmt-hub {version} · regional mobility teams").format(version=__version__)
    links = ""
    if layout.officer is not None and layout.csrf is not None:
        links = (
            f'<li><a href="/console/subjects">{_e(_("Find a subject"))}</a></li>'
            f'<li><a href="/console/expiring">{_e(_("Expiring consents"))}</a></li>'
            f'<li><a href="/console/erasures">{_e(_("Erasures"))}</a></li>'
            f'<li><a href="/console/exports">{_e(_("Exports"))}</a></li>'
            f'<li><a href="/console/bulk">{_e(_("Bulk withdrawal"))}</a></li>'
            f'<li><a href="/console/policy">{_e(_("Policy matrix"))}</a></li>'
            f"<li>{_e(_('Signed in as {officer}').format(officer=layout.officer))}</li>"
            '<li><form method="post" action="/console/logout">'
            f"{_csrf_field(layout.csrf)}"
            f'<button type="submit" class="secondary">{_e(_("Sign out"))}</button></form></li>'
        )
    nav = f'<nav aria-label="{_e(_("Console"))}"><ul>{links}<li>{_switch()}</li></ul></nav>'
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{current()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{_e(_('{title} - rmt-hub consent console').format(title=title))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f'<a class="skip" href="#main">{_e(_("Skip to content"))}</a>'
        f'<header><span class="brand">{_e(_("Consent register · privacy officer console"))}'
        f"</span>{nav}</header>"
        f'<main id="main" tabindex="-1">{body}</main>'
        f"<footer>{_e(footer)}</footer></body></html>\n"
    )


def _csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(token)}">'


def _errors(messages: Sequence[str]) -> str:
    if not messages:
        return ""
    items = "".join(f"<li>{_e(m)}</li>" for m in messages)
    return (
        f'<div class="alert" role="alert"><h2 id="problems">{_e(_("There is a problem"))}</h2>'
        f"<ul>{items}</ul></div>"
    )


def _status(message: str | None) -> str:
    return f'<div class="status" role="status">{_e(message)}</div>' if message else ""


def _table(caption: str, headers: Sequence[str], rows: Sequence[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    return (
        f'<table><caption class="sr">{_e(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


# --- login ------------------------------------------------------------------------------------
def login_page(token: str, errors: Sequence[str] = (), message: str | None = None) -> str:
    hint = _e(
        _(
            "The key issued with {command}. It is checked once; the browser keeps only a "
            "session cookie that holds no key."
        )
    ).format(command="<code>rmt-hub consent keys add --role privacy_officer</code>")
    body = (
        f"<h1>{_e(_('Sign in'))}</h1>"
        + _status(message)
        + _errors(errors)
        + '<form class="card" method="post" action="/console/login" autocomplete="off">'
        + _csrf_field(token)
        + f'<label for="api_key">{_e(_("API key (privacy officer)"))}</label>'
        '<input type="password" id="api_key" name="api_key" required autocomplete="off" '
        'spellcheck="false" aria-describedby="api_key_hint">'
        f'<p class="hint" id="api_key_hint">{hint}</p>'
        f'<button type="submit">{_e(_("Sign in"))}</button></form>'
    )
    return _page(_("Sign in"), body, Layout())


# --- search -----------------------------------------------------------------------------------
def search_page(
    layout: Layout,
    *,
    errors: Sequence[str] = (),
    message: str | None = None,
    matches: Sequence[str] | None = None,
) -> str:
    assert layout.csrf is not None
    found = ""
    if matches is not None:
        if matches:
            links = "".join(
                f'<li><a href="/console/subjects/{_e(s)}">{_e(s)}</a></li>' for s in matches
            )
            found = f"<h2>{_e(_('Subjects with this BSN on file'))}</h2><ul>{links}</ul>"
        else:
            found = (
                f'<p class="empty" role="status">{_e(_("No subject has this BSN on file."))}</p>'
            )
    body = (
        f"<h1>{_e(_('Find a subject'))}</h1>"
        + _status(message)
        + _errors(errors)
        + '<form class="card" method="post" action="/console/search" autocomplete="off">'
        + _csrf_field(layout.csrf)
        + '<label for="query">'
        + _e(_("Client pseudonym or citizen service number (BSN)"))
        + "</label>"
        '<input type="text" id="query" name="query" required autocomplete="off" '
        'spellcheck="false" aria-describedby="query_hint">'
        '<p class="hint" id="query_hint">'
        + _e(
            _(
                "A BSN is looked up by its keyed hash and never shown back; a pseudonym opens "
                "the subject (also when nothing is recorded yet)."
            )
        )
        + f'</p><button type="submit">{_e(_("Search"))}</button></form>'
        + found
    )
    return _page(_("Find a subject"), body, layout)


# --- a subject --------------------------------------------------------------------------------
@dataclass
class GrantFormValues:
    """What the grant form shows (defaults, or what was sent back with errors; no BSN)."""

    controller: str = ""
    job_seeker_category: str = ""
    recipients: set[str] = field(default_factory=set)
    recipient_region: str = ""
    purposes: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    legal_basis: str = LegalBasis.CONSENT.value
    valid_from: str = ""
    valid_until: str = ""
    notice_version: str = DEFAULT_NOTICE_VERSION
    notice_url: str = ""
    collection_method: str = CollectionMethod.IN_PERSON_SIGNED.value


def _options(choices: Iterable[tuple[str, str]], selected: str, blank: str | None = None) -> str:
    out = [f'<option value="">{_e(blank)}</option>'] if blank is not None else []
    for value, text in choices:
        chosen = " selected" if value == selected else ""
        out.append(f'<option value="{_e(value)}"{chosen}>{_e(text)}</option>')
    return "".join(out)


def _checkboxes(name: str, choices: Iterable[tuple[str, str]], checked: set[str]) -> str:
    boxes = []
    for index, (value, text) in enumerate(choices):
        ident = f"{name}-{index}"
        mark = " checked" if value in checked else ""
        boxes.append(
            f'<label for="{ident}"><input type="checkbox" id="{ident}" name="{_e(name)}" '
            f'value="{_e(value)}"{mark}> {_e(text)}</label>'
        )
    return "".join(boxes)


def _select(
    name: str,
    label: str,
    choices: Iterable[tuple[str, str]],
    selected: str,
    blank: str | None = None,
    *,
    required: bool = False,
) -> str:
    needed = " required" if required or blank is None else ""
    return (
        f'<div><label for="{name}">{_e(label)}</label>'
        f'<select id="{name}" name="{name}"{needed}>'
        f"{_options(choices, selected, blank)}</select></div>"
    )


def _input(name: str, label: str, value: str, kind: str = "text", extra: str = "") -> str:
    return (
        f'<div><label for="{name}">{_e(label)}</label>'
        f'<input type="{kind}" id="{name}" name="{name}" value="{_e(value)}"{extra}></div>'
    )


def _group(legend: str, boxes: str, after: str = "") -> str:
    return f"<fieldset><legend>{_e(legend)}</legend>{boxes}{after}</fieldset>"


def _coded(values: Iterable[StrEnum]) -> list[tuple[str, str]]:
    return [(v.value, label(v)) for v in values]


def _grant_form(
    subject: str, layout: Layout, partners: Sequence[Partner], values: GrantFormValues
) -> str:
    assert layout.csrf is not None
    partner_choices = [(p.id, f"{p.name} ({p.id})") for p in partners]
    recipient_choices = [(f"partner:{p.id}", p.id) for p in partners] + [
        (f"kind:{k.value}", _("every {kind}").format(kind=label(k))) for k in PartnerKind
    ]
    parties = _select(
        "controller",
        _("Controller (obtained the consent)"),
        partner_choices,
        values.controller,
        _("- choose -"),
        required=True,
    ) + _select(
        "job_seeker_category",
        _("Job seeker category"),
        _coded(JobSeekerCategory),
        values.job_seeker_category,
        _("- not given -"),
    )
    recipients = _group(
        _("Recipients"),
        _checkboxes("recipient", recipient_choices, values.recipients),
        _select(
            "recipient_region",
            _('Limit "every ..." recipients to region'),
            [(r.value, r.cbs_name) for r in sorted(Region, key=lambda r: r.cbs_name)],
            values.recipient_region,
            _("- any -"),
        ),
    )
    purposes = _group(_("Purposes"), _checkboxes("purpose", _coded(Purpose), values.purposes))
    categories = _group(
        _("Data categories"),
        _checkboxes("category", _coded(DataCategory), values.categories),
        '<p class="hint">'
        + _e(
            _(
                "{meta} and {pseudonym} are implied by every consent; {health} needs the "
                "legal basis {explicit}."
            ).format(
                meta=label(DataCategory.META),
                pseudonym=label(DataCategory.PSEUDONYM),
                health=label(DataCategory.HEALTH),
                explicit=label(LegalBasis.EXPLICIT_CONSENT),
            )
        )
        + "</p>",
    )
    basis = _select(
        "legal_basis", _("Legal basis"), _coded(LegalBasis), values.legal_basis
    ) + _select(
        "collection_method",
        _("Collected"),
        _coded(CollectionMethod),
        values.collection_method,
    )
    validity = _input(
        "valid_from", _("Valid from (UTC date; empty: now)"), values.valid_from, "date"
    ) + _input(
        "valid_until",
        _("Valid until, last day included (empty: no end)"),
        values.valid_until,
        "date",
    )
    notice = _input(
        "notice_version",
        _("Privacy notice version"),
        values.notice_version,
        extra=' required maxlength="64"',
    ) + _input(
        "notice_url",
        _("Privacy notice URL (optional)"),
        values.notice_url,
        "url",
        ' maxlength="500"',
    )
    bsn = (
        f'<label for="bsn">{_e(_("Citizen service number (optional)"))}</label>'
        '<input type="password" id="bsn" name="bsn" inputmode="numeric" autocomplete="off" '
        'aria-describedby="bsn_hint">'
        '<p class="hint" id="bsn_hint">'
        + _e(_("Stored encrypted, so the subject can be found by it later; never shown again."))
        + "</p>"
    )
    return (
        f'<form class="card" method="post" action="/console/subjects/{_e(subject)}/consents" '
        'aria-labelledby="grant-heading" autocomplete="off">'
        f'<h2 id="grant-heading">{_e(_("Record a consent"))}</h2>'
        f"{_csrf_field(layout.csrf)}"
        f'<div class="row">{parties}</div>{recipients}{purposes}{categories}'
        f'<div class="row">{basis}</div><div class="row">{validity}</div>'
        f'<div class="row">{notice}</div>{bsn}'
        f'<p><button type="submit">{_e(_("Record consent"))}</button></p></form>'
    )


def _withdraw_form(subject: str, consent_id: str, csrf: str) -> str:
    ident = f"reason-{consent_id}"
    name = _("Withdraw consent {consent}").format(consent=consent_id)
    return (
        '<form class="inline" method="post" '
        f'action="/console/subjects/{_e(subject)}/consents/{_e(consent_id)}/withdraw">'
        f"{_csrf_field(csrf)}"
        f'<label for="{_e(ident)}">{_e(_("Reason"))}</label>'
        f'<input type="text" id="{_e(ident)}" name="reason" maxlength="1000">'
        f'<button type="submit" class="danger" aria-label="{_e(name)}">'
        f"{_e(_('Withdraw'))}</button></form>"
    )


def _withdrawn(at: datetime, reason: str | None) -> str:
    when = _ts(at)
    if reason:
        return _("withdrawn {time}: {reason}").format(time=when, reason=reason)
    return _("withdrawn {time}").format(time=when)


def subject_page(
    layout: Layout,
    subject: str,
    consents: SubjectConsents,
    partners: Sequence[Partner],
    *,
    values: GrantFormValues | None = None,
    errors: Sequence[str] = (),
    message: str | None = None,
) -> str:
    assert layout.csrf is not None
    rows = []
    for c in consents.consents:
        status = c.status_now.value
        if c.status_now is ConsentStatus.GIVEN:
            action = _withdraw_form(subject, c.id, layout.csrf)
        elif c.withdrawal:
            action = _e(_withdrawn(c.withdrawal.withdrawn_at, c.withdrawal.reason))
        else:
            action = "-"
        until = _ts(c.valid_until) if c.valid_until else _("no end date")
        rows.append(
            f'<tr id="consent-{_e(c.id)}"><td><code>{_e(c.id)}</code></td>'
            f'<td><span class="badge {_e(status)}">{_e(label(c.status_now))}</span></td>'
            f"<td>{_e(c.controller)}</td>"
            f"<td>{_e(recipients_label(c.recipients))}</td>"
            f"<td>{_e(labels(c.purposes))}</td>"
            f"<td>{_e(labels(c.data_categories))}</td>"
            f"<td>{_e(label(c.legal_basis))}</td>"
            f"<td>{_e(_ts(c.valid_from))} - {_e(until)}</td>"
            f"<td>{_e(c.notice.version)}</td>"
            f"<td>{action}</td></tr>"
        )
    on_file = _("yes (encrypted)") if consents.bsn_on_file else _("no")
    report = (
        f'<a href="/console/subjects/{_e(subject)}/report">{_e(_("Subject access report"))}</a>'
    )
    body = (
        f"<h1>{_e(_('Subject'))} <code>{_e(subject)}</code></h1>"
        + _status(message)
        + _errors(errors)
        + '<p class="meta">'
        + _e(_("Citizen service number on file: {answer}.").format(answer=on_file))
        + " "
        + _e(_("{report} (who received what, when, on which basis).")).format(report=report)
        + f"</p><h2>{_e(_('Consents'))}</h2>"
        + _table(
            _("Consents of this subject"),
            (
                _("consent"),
                _("status"),
                _("controller"),
                _("recipients"),
                _("purposes"),
                _("data"),
                _("legal basis"),
                _("valid"),
                _("notice"),
                _("action"),
            ),
            rows,
            _("No consents are recorded for this subject."),
        )
        + _grant_form(subject, layout, partners, values or GrantFormValues())
    )
    return _page(_("Subject {subject}").format(subject=subject), body, layout)


# --- the access report ------------------------------------------------------------------------
def report_page(layout: Layout, report: AccessReport) -> str:
    subject = _e(report.subject)
    back = _("Back to the subject")
    body = (
        f"<h1>{_e(_('Subject access report:'))} <code>{subject}</code></h1>"
        f'<p class="meta">{render_meta(report)} '
        f'<a href="/console/subjects/{subject}">{_e(back)}</a>.</p>'
        + render_verification(report)
        + render_sections(report)
    )
    return _page(_("Access report {subject}").format(subject=report.subject), body, layout)


# --- the policy matrix ------------------------------------------------------------------------
def policy_page(layout: Layout, policy: PolicyView, why: Mapping[tuple[str, str], str]) -> str:
    purposes = list(Purpose)
    rows = []
    for kind, cells in policy.matrix.items():
        tds = []
        for purpose in purposes:
            categories = cells.get(purpose.value, [])
            text = labels(DataCategory(c) for c in categories) if categories else _("nothing")
            note = why.get((kind, purpose.value), "")
            hint = (
                f'<details><summary class="hint">{_e(_("why"))}</summary>'
                f'<span class="hint" lang="en">{_e(note)}</span></details>'
                if note
                else ""
            )
            tds.append(f"<td>{_e(text)}{hint}</td>")
        rows.append(f'<tr><th scope="row">{_e(label(PartnerKind(kind)))}</th>{"".join(tds)}</tr>')
    head = f'<th scope="col">{_e(_("partner kind"))}</th>' + "".join(
        f'<th scope="col">{_e(label(p))}</th>' for p in purposes
    )
    intro = _(
        "Version {version}: the data categories that may ever flow to a partner of a kind for "
        "a purpose. A consent can only narrow this, never widen it. Implied by every "
        "consent: {implied}."
    ).format(
        version=policy.version,
        implied=labels(DataCategory(c) for c in policy.implied_categories),
    )
    body = (
        f"<h1>{_e(_('Policy matrix'))}</h1>"
        f'<p class="meta">{_e(intro)}</p>'
        f'<div class="scroll" role="region" aria-label="{_e(_("Policy matrix"))}" tabindex="0">'
        '<table id="policy-matrix"><caption class="sr">'
        + _e(_("Categories per partner kind and purpose"))
        + f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    return _page(_("Policy matrix"), body, layout)


# --- errors -----------------------------------------------------------------------------------
def error_page(layout: Layout, status: int, title: str, detail: str) -> str:
    back = (
        f'<a href="/console/subjects">{_e(_("Back to the search"))}</a>.'
        if layout.officer
        else f'<a href="/console/login">{_e(_("Sign in"))}</a>.'
    )
    body = (
        f"<h1>{_e(title)}</h1>"
        f'<div class="alert" role="alert"><p>{_e(detail)}</p></div>'
        f'<p class="meta">HTTP {status}. {back}</p>'
    )
    return _page(title, body, layout)
