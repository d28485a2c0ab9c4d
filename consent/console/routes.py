"""The console's routes under ``/console``: thin, over the API's controller.

Every page and form goes through :class:`consent.api.controller.ConsentController`, so
the roles are checked where the JSON API checks them. Errors become HTML pages with the
status :func:`consent.api.errors.status_of` gives the JSON API. Forms are read in the
event loop, the work (database, waiting for the change feed) runs in the thread pool.

=======  ==============================================  ====================================
method   path                                            what
=======  ==============================================  ====================================
GET      /console                                        to the search (or the sign-in)
GET      /console/login                                  sign-in form
POST     /console/login                                  sign in with an API key
POST     /console/logout                                 sign out
GET      /console/subjects                               search form
POST     /console/search                                 by pseudonym, or BSN (kept out of URLs)
GET      /console/subjects/{s}                           consents, withdraw buttons, grant form
POST     /console/subjects/{s}/consents                  grant
POST     /console/subjects/{s}/consents/{id}/withdraw    withdraw
GET      /console/subjects/{s}/report                    the subject access report
GET      /console/policy                                 the policy matrix
GET      /console/expiring                               consents about to expire (?days=)
GET      /console/erasures                               erasure notices and acknowledgements
GET      /console/exports                                the export download forms
GET      /console/exports/{kind}                         a download (disclosures, consent-events)
GET      /console/bulk                                   bulk withdrawal: the selection
POST     /console/bulk/preview                           what it affects, and the confirmation
POST     /console/bulk                                   withdraw the previewed consents
=======  ==============================================  ====================================
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import SecretStr, ValidationError
from starlette.concurrency import run_in_threadpool

from consent.api.auth import Principal, authenticate
from consent.api.controller import MAX_EXPIRING_DAYS, ConsentController
from consent.api.dto import BsnLookupRequest, BulkWithdrawRequest, WithdrawRequest
from consent.api.errors import status_of
from consent.api.routes import export_response
from consent.bulk import BulkSelection
from consent.console.forms import (
    MAX_FORM_BYTES,
    Form,
    FormError,
    grant_request,
    grant_values,
    messages_of,
    parse_form,
)
from consent.console.pages import (
    CSP,
    PAGE_PATH,
    Layout,
    error_page,
    login_page,
    policy_page,
    report_page,
    search_page,
    subject_page,
)
from consent.console.session import (
    LOGIN_COOKIE,
    LOGIN_TTL_S,
    SESSION_COOKIE,
    SESSION_TTL_S,
    ConsoleSession,
    SessionSigner,
    session_hash,
)
from consent.console.work import (
    bulk_done_page,
    bulk_page,
    bulk_preview_page,
    erasures_page,
    expiring_page,
    exports_page,
)
from consent.erasures import ErasureStatus
from consent.errors import (
    ConsentConflict,
    ConsentInvalid,
    PublishTimeout,
    Throttled,
    Unauthenticated,
)
from consent.exports import ExportFormat
from consent.model import PARTNER_ID_PATTERN, PSEUDONYM_PATTERN, Role, utc_now
from consent.store import ConsoleSessionRecord, Window
from hub.errors import HubError
from hub.i18n import N_, _, language, negotiate, supported
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.vocabulary import PartnerKind, Purpose

__all__ = ["build_console_router"]

_LOG = logging.getLogger(__name__)

_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_SUBJECT = re.compile(PSEUDONYM_PATTERN)
_BSN_LIKE = re.compile(r"^\d{8,9}$")
_PARTNER = re.compile(PARTNER_ID_PATTERN)
_EXPORTS = ("disclosures", "consent-events")
LANG_COOKIE = "rmt_console_lang"
"""The officer's choice of language (``?lang=``), remembered for a year."""
LANG_TTL_S = 365 * 24 * 3600


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers=_HEADERS)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=_HEADERS)


def _secure(request: Request) -> bool:
    """Whether the browser reached us over HTTPS. The scheme is the connection's, or a
    trusted proxy's ``X-Forwarded-Proto`` (``HUB_TRUSTED_PROXIES``, applied by
    :class:`hub.http.HttpServer`); a client's own header never counts."""
    return request.url.scheme == "https"


def _source(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _read_form(request: Request) -> Form:
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise FormError("the form is too large")
        chunks.append(chunk)
    return parse_form(request.headers.get("content-type"), b"".join(chunks))


@dataclass(frozen=True, slots=True)
class _Caller:
    principal: Principal
    session: ConsoleSession
    layout: Layout


_FORM_REFUSED = N_(
    "The form did not carry this session's security token (CSRF). Reload the page and send "
    "it again."
)
_LOGIN_REFUSED = N_(
    "The sign-in form expired or was not sent from this console. Open the sign-in page again."
)
_TITLES = {
    400: N_("Bad form"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Conflict"),
    422: N_("Invalid"),
    503: N_("Try again"),
}
_EXPLAINED = {
    403: N_("Your key may not do this."),
    404: N_("It does not exist (any more)."),
    409: N_("This contradicts what is already recorded."),
    422: N_("The service refused the request."),
    503: N_(
        "The change is stored, but the hub has not confirmed it yet. Sending it again is safe."
    ),
}


def _explain(status: int, detail: str) -> str:
    """A translated explanation of a service error, with its own (English) detail."""
    explained = _EXPLAINED.get(status)
    if explained is None:
        return detail
    return _("{explanation} Detail: {detail}").format(explanation=_(explained), detail=detail)


class _Console:
    """The handlers; :func:`build_console_router` binds them to paths."""

    def __init__(self, controller: ConsentController, signer: SessionSigner) -> None:
        self.controller = controller
        self.service = controller.service
        self.signer = signer

    # --- who is calling ---------------------------------------------------------------------
    def caller(self, request: Request) -> _Caller | Response:
        """The signed-in officer, or the response to send instead (sign-in, 403)."""
        session = self.signer.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return _redirect("/console/login")
        held = self.service.store.console_session(session_hash(session), utc_now())
        if held is None or held.key_id != session.key_id:  # signed out, expired or not ours
            response = _redirect("/console/login")
            response.delete_cookie(SESSION_COOKIE, path="/console")
            return response
        record = next(
            (k for k in self.service.store.list_api_keys() if k.key_id == session.key_id), None
        )
        if record is None or record.revoked_at is not None:
            self.service.store.end_console_session(held.session_hash)
            response = _redirect("/console/login?ended=1")
            response.delete_cookie(SESSION_COOKIE, path="/console")
            return response
        principal = Principal(record.key_id, record.name, record.role, record.partner_id)
        if principal.role is not Role.PRIVACY_OFFICER:
            detail = _("The console is for privacy officers.")
            return _html(error_page(Layout(), 403, _("Not for this key"), detail), 403)
        layout = Layout(officer=principal.name, csrf=self.signer.csrf_token(session))
        return _Caller(principal, session, layout)

    def checked(self, request: Request, form: Form) -> _Caller | Response:
        """The caller of a form, once its CSRF token is right."""
        who = self.caller(request)
        if isinstance(who, _Caller) and not self.signer.csrf_ok(who.session, form.get("csrf")):
            _LOG.warning("console: refused a form without a valid CSRF token")
            page = error_page(who.layout, 403, _("Form refused"), _(_FORM_REFUSED))
            return _html(page, 403)
        return who

    @staticmethod
    def guarded(who: _Caller, work: Callable[[], Response]) -> Response:
        """``work()``, with the service's errors as HTML pages."""
        try:
            return work()
        except Unauthenticated:
            return _redirect("/console/login")
        except HubError as exc:
            status = status_of(exc)[0]
            if status == 500:
                _LOG.error("console error: %s", type(exc).__name__)
            title = _(_TITLES[status]) if status in _TITLES else _("Error")
            page = error_page(who.layout, status, title, _explain(status, str(exc)))
            return _html(page, status)

    @staticmethod
    def not_found(who: _Caller) -> Response:
        detail = _("That is not a client pseudonym.")
        return _html(error_page(who.layout, 404, _("Not found"), detail), 404)

    @staticmethod
    async def form_of(request: Request) -> Form | Response:
        try:
            return await _read_form(request)
        except FormError as exc:
            return _html(error_page(Layout(), 400, _("Bad form"), str(exc)), 400)

    def login_form(
        self,
        *,
        secure: bool,
        errors: tuple[str, ...] = (),
        message: str | None = None,
        status: int = 200,
    ) -> Response:
        token = self.signer.login_token()
        response = _html(login_page(token, errors, message), status)
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            max_age=LOGIN_TTL_S,
            path="/console/login",
            httponly=True,
            samesite="strict",
            secure=secure,
        )
        return response

    # --- sign in and out --------------------------------------------------------------------
    def index(self, request: Request) -> Response:
        if not isinstance(self.caller(request), _Caller):
            return _redirect("/console/login")
        return _redirect("/console/subjects")

    def login(
        self,
        request: Request,
        ended: Annotated[str | None, Query(max_length=10)] = None,
        signed_out: Annotated[str | None, Query(max_length=10)] = None,
    ) -> Response:
        if isinstance(self.caller(request), _Caller):
            return _redirect("/console/subjects")
        message = None
        if signed_out:
            message = _("You are signed out.")
        elif ended:
            message = _("Your session ended (the key was revoked).")
        return self.login_form(message=message, secure=_secure(request))

    def do_login(self, request: Request, form: Form) -> Response:
        if not self.signer.login_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
            _LOG.warning("console: refused a sign-in without a valid CSRF token")
            return _html(error_page(Layout(), 403, _("Form refused"), _(_LOGIN_REFUSED)), 403)
        try:
            principal = authenticate(
                self.service.store,
                form.get("api_key"),
                throttle=self.controller.throttle,
                source=_source(request),
            )
        except Throttled as exc:
            detail = _(
                "Too many unknown API keys from this address. Try again in {seconds} s."
            ).format(seconds=exc.retry_after_s)
            page = _html(error_page(Layout(), 429, _("Too many attempts"), detail), 429)
            page.headers["Retry-After"] = str(exc.retry_after_s)
            return page
        except Unauthenticated:
            _LOG.warning("console: sign-in refused (unknown or revoked key)")
            return self.login_form(
                errors=(_("API key: unknown or revoked."),), status=401, secure=_secure(request)
            )
        if principal.role is not Role.PRIVACY_OFFICER:
            _LOG.warning(
                "console: sign-in refused for key %s (role %s)", principal.key_id, principal.role
            )
            detail = _("The console is for privacy officers; this key has the role {role}.").format(
                role=principal.role.value
            )
            return _html(error_page(Layout(), 403, _("Not for this key"), detail), 403)
        cookie, session = self.signer.issue(principal.key_id)
        now = utc_now()
        self.service.store.purge_console_sessions(now)
        self.service.store.add_console_session(
            ConsoleSessionRecord(
                session_hash(session),
                session.key_id,
                now,
                datetime.fromtimestamp(session.expires_at, UTC),
            )
        )
        _LOG.info("console: signed in with key %s", principal.key_id)
        response = _redirect("/console/subjects")
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=SESSION_TTL_S,
            path="/console",
            httponly=True,
            samesite="strict",
            secure=_secure(request),
        )
        response.delete_cookie(LOGIN_COOKIE, path="/console/login")
        return response

    def do_logout(self, request: Request, form: Form) -> Response:
        who = self.checked(request, form)
        if not isinstance(who, _Caller):
            return who
        self.service.store.end_console_session(session_hash(who.session))
        _LOG.info("console: signed out key %s", who.principal.key_id)
        response = _redirect("/console/login?signed_out=1")
        response.delete_cookie(SESSION_COOKIE, path="/console")
        return response

    # --- search -----------------------------------------------------------------------------
    def subjects(self, request: Request) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        return _html(search_page(who.layout))

    def do_search(self, request: Request, form: Form) -> Response:
        who = self.checked(request, form)
        if not isinstance(who, _Caller):
            return who
        query = form.get("query")
        compact = query.replace(" ", "").replace(".", "")

        def work() -> Response:
            if _BSN_LIKE.match(compact):
                try:
                    lookup = BsnLookupRequest(bsn=SecretStr(compact))
                except ValidationError:
                    problem = _("Search: not a valid BSN (nine digits passing the eleven-test).")
                    return _html(search_page(who.layout, errors=(problem,)), 422)
                found = self.controller.lookup(who.principal, lookup).subjects
                if len(found) == 1:
                    return _redirect(f"/console/subjects/{found[0]}?found=bsn")
                return _html(search_page(who.layout, matches=found))
            if _SUBJECT.match(query):
                return _redirect(f"/console/subjects/{query}")
            problem = _(
                "Search: enter a client pseudonym (3-128 letters, digits and . _ : -) or a "
                "citizen service number."
            )
            return _html(search_page(who.layout, errors=(problem,)), 422)

        return self.guarded(who, work)

    # --- a subject --------------------------------------------------------------------------
    def subject(
        self,
        request: Request,
        subject: str,
        granted: Annotated[str | None, Query(max_length=100)] = None,
        withdrawn: Annotated[str | None, Query(max_length=100)] = None,
        found: Annotated[str | None, Query(max_length=10)] = None,
    ) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        if not _SUBJECT.match(subject):
            return self.not_found(who)

        def work() -> Response:
            consents = self.controller.for_subject(who.principal, ClientPseudonym(subject))
            known = {c.id for c in consents.consents}
            message = None
            if granted in known:
                message = _("Consent {consent} is recorded and published.").format(consent=granted)
            elif withdrawn in known:
                message = _(
                    "Consent {consent} is withdrawn; the hub no longer delivers on it."
                ).format(consent=withdrawn)
            elif found == "bsn":
                message = _("Found by the citizen service number.")
            partners = list(self.service.partners)
            return _html(subject_page(who.layout, subject, consents, partners, message=message))

        return self.guarded(who, work)

    def do_grant(self, request: Request, form: Form, subject: str) -> Response:
        who = self.checked(request, form)
        if not isinstance(who, _Caller):
            return who
        if not _SUBJECT.match(subject):
            return self.not_found(who)

        def again(errors: list[str], status: int) -> Response:
            consents = self.controller.for_subject(who.principal, ClientPseudonym(subject))
            page = subject_page(
                who.layout,
                subject,
                consents,
                list(self.service.partners),
                values=grant_values(form),
                errors=errors,
            )
            return _html(page, status)

        def work() -> Response:
            try:
                record = self.controller.grant(who.principal, grant_request(subject, form))
            except (ValidationError, ConsentInvalid) as exc:
                return again(messages_of(exc), 422)
            except (ConsentConflict, PublishTimeout) as exc:
                status = status_of(exc)[0]
                return again([_explain(status, str(exc))], status)
            return _redirect(f"/console/subjects/{subject}?granted={record.id}")

        return self.guarded(who, work)

    def do_withdraw(self, request: Request, form: Form, subject: str, consent_id: str) -> Response:
        who = self.checked(request, form)
        if not isinstance(who, _Caller):
            return who
        if not _SUBJECT.match(subject):
            return self.not_found(who)

        def work() -> Response:
            record = self.controller.show(who.principal, ConsentId(consent_id))
            if record.subject != subject:
                detail = _("No such consent of this subject.")
                return _html(error_page(who.layout, 404, _("Not found"), detail), 404)
            reason = WithdrawRequest(reason=form.get("reason") or None)
            self.controller.withdraw(who.principal, ConsentId(consent_id), reason)
            return _redirect(f"/console/subjects/{subject}?withdrawn={consent_id}")

        return self.guarded(who, work)

    def report(self, request: Request, subject: str) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        if not _SUBJECT.match(subject):
            return self.not_found(who)
        pseudonym = ClientPseudonym(subject)
        return self.guarded(
            who,
            lambda: _html(
                report_page(who.layout, self.controller.access_report(who.principal, pseudonym))
            ),
        )

    # --- the policy matrix ------------------------------------------------------------------
    def policy(self, request: Request) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        matrix = self.service.policy
        why = {(k.value, p.value): matrix.why(k, p) for k in PartnerKind for p in Purpose}
        return self.guarded(
            who,
            lambda: _html(policy_page(who.layout, self.controller.policy(who.principal), why)),
        )

    # --- the officer's work -----------------------------------------------------------------
    def expiring(
        self,
        request: Request,
        days: Annotated[str | None, Query(max_length=10)] = None,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
    ) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        number = int(days) if days and days.isdigit() else (30 if not days else 0)
        if not 1 <= number <= MAX_EXPIRING_DAYS:
            detail = _("Days: a number from 1 to {most}.").format(most=MAX_EXPIRING_DAYS)
            return _html(error_page(who.layout, 422, _("Invalid"), detail), 422)

        def work() -> Response:
            page = self.controller.expiring(who.principal, number, 50, cursor)
            more = (
                f"/console/expiring?days={number}&cursor={page.next_cursor}"
                if page.next_cursor
                else None
            )
            return _html(expiring_page(who.layout, page, more))

        return self.guarded(who, work)

    def erasures(
        self,
        request: Request,
        days: Annotated[str | None, Query(max_length=10)] = None,
        status: Annotated[str | None, Query(max_length=20)] = None,
    ) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        number = int(days) if days and days.isdigit() else (30 if not days else 0)
        if not 1 <= number <= MAX_EXPIRING_DAYS:
            detail = _("Days: a number from 1 to {most}.").format(most=MAX_EXPIRING_DAYS)
            return _html(error_page(who.layout, 422, _("Invalid"), detail), 422)
        chosen = ErasureStatus(status) if status in set(ErasureStatus) else None

        def work() -> Response:
            found = self.controller.recent_erasures(who.principal, number, chosen)
            return _html(erasures_page(who.layout, found, chosen))

        return self.guarded(who, work)

    def exports(self, request: Request) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        return _html(exports_page(who.layout, list(self.service.partners)))

    def export(self, request: Request, kind: str) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        if kind not in _EXPORTS:
            page = error_page(who.layout, 404, _("Not found"), _("No such export."))
            return _html(page, 404)
        query = request.query_params
        problems: list[str] = []
        window = _export_window(query.get, problems)
        fmt = query.get("format") or ExportFormat.CSV.value
        if fmt not in {f.value for f in ExportFormat}:
            problems.append(_("Format: CSV or JSON lines."))
        if window is None or problems:
            page = exports_page(who.layout, list(self.service.partners), problems)
            return _html(page, 422)
        chosen = ExportFormat(fmt)

        def work() -> Response:
            if kind == "disclosures":
                lines = self.controller.export_disclosures(who.principal, window, chosen)
            else:
                lines = self.controller.export_events(who.principal, window, chosen)
            return export_response(lines, chosen, kind)

        return self.guarded(who, work)

    def bulk(self, request: Request) -> Response:
        who = self.caller(request)
        if not isinstance(who, _Caller):
            return who
        return _html(bulk_page(who.layout, list(self.service.partners)))

    def do_bulk_preview(self, request: Request, form: Form) -> Response:
        who = self.checked(request, form)
        if not isinstance(who, _Caller):
            return who
        try:
            selection = BulkSelection(
                recipient=PartnerId(form.get("recipient")) if form.get("recipient") else None,
                purpose=Purpose(form.get("purpose")) if form.get("purpose") else None,
            )
        except (ValidationError, ValueError):
            problem = _("Choose a partner, a purpose, or both.")
            page = bulk_page(who.layout, list(self.service.partners), (problem,))
            return _html(page, 422)

        def work() -> Response:
            preview = self.controller.preview_bulk_withdrawal(who.principal, selection)
            return _html(bulk_preview_page(who.layout, preview))

        return self.guarded(who, work)

    def do_bulk(self, request: Request, form: Form) -> Response:
        who = self.checked(request, form)
        if not isinstance(who, _Caller):
            return who
        try:
            confirmed = BulkWithdrawRequest(token=form.get("token"), reason=form.get("reason"))
        except ValidationError:
            problem = _("Give a reason, and confirm from a preview.")
            page = bulk_page(who.layout, list(self.service.partners), (problem,))
            return _html(page, 422)

        def work() -> Response:
            done = self.controller.bulk_withdraw(who.principal, confirmed)
            return _html(bulk_done_page(who.layout, done))

        return self.guarded(who, work)


def _export_window(read: Callable[[str], str | None], problems: list[str]) -> Window | None:
    """The export filters of the download form (dates are UTC days, both included)."""
    partner = (read("partner") or "").strip() or None
    subject = (read("subject") or "").strip() or None
    if partner is not None and not _PARTNER.match(partner):
        problems.append(_("Partner: not a partner id."))
    if subject is not None and not _SUBJECT.match(subject):
        problems.append(_("Client pseudonym: 3-128 letters, digits and . _ : -"))
    days: dict[str, datetime | None] = {}
    for name, label in (("from", N_("From")), ("until", N_("Until"))):
        text = (read(name) or "").strip()
        try:
            day = date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(_("{field}: a date such as 2026-01-31.").format(field=_(label)))
            day = None
        days[name] = None if day is None else datetime.combine(day, time(), UTC)
    since, until = days["from"], days["until"]
    if until is not None:
        until += timedelta(days=1)  # the last day included
    if since is not None and until is not None and until <= since:
        problems.append(_("Until: on or after From."))
    if problems:
        return None
    return Window(
        partner=PartnerId(partner) if partner else None,
        subject=ClientPseudonym(subject) if subject else None,
        since=since,
        until=until,
    )


_FormHandler = Callable[..., Response]


def _page_path(request: Request) -> str:
    """The page the language switch of a response leads back to: the page itself for a
    GET, the page a form belongs to for a POST."""
    path = request.url.path
    if request.method == "GET":
        return path
    parts = path.split("/")  # "", "console", ...
    if len(parts) > 3 and parts[2] == "subjects":
        return "/".join(parts[:4])
    if len(parts) > 2 and parts[2] in {"login", "bulk"}:
        return f"/console/{parts[2]}"
    return "/console/subjects"


def _language_of(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
        request.cookies.get(LANG_COOKIE),
    )


def _in_language(request: Request, handler: _FormHandler) -> _FormHandler:
    """``handler`` rendering in the request's language (``?lang=``, then the officer's
    earlier choice in a cookie, then ``Accept-Language``; Dutch by default); a ``?lang=``
    is remembered in a cookie."""
    asked = request.query_params.get("lang")
    lang = _language_of(request)

    def run(*args: Any, **kwargs: Any) -> Response:
        path = PAGE_PATH.set(_page_path(request))
        try:
            with language(lang):
                response = handler(*args, **kwargs)
        finally:
            PAGE_PATH.reset(path)
        response.headers["Content-Language"] = lang
        response.headers["Vary"] = "Accept-Language, Cookie"
        if supported(asked):
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=LANG_TTL_S,
                path="/console",
                httponly=True,
                samesite="strict",
                secure=_secure(request),
            )
        return response

    return run


def _getting(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A page route (run in the thread pool by FastAPI) in the request's language."""

    @functools.wraps(handler)
    def route(request: Request, *args: Any, **kwargs: Any) -> Response:
        return _in_language(request, handler)(request, *args, **kwargs)

    return route


def _posting(console: _Console, handler: _FormHandler) -> Callable[..., Awaitable[Response]]:
    """An async route that reads the form in the loop, then runs ``handler`` in the pool,
    in the request's language."""

    async def route(request: Request) -> Response:
        with language(_language_of(request)):
            form = await console.form_of(request)
        if isinstance(form, Response):
            return form
        localised = _in_language(request, handler)
        return await run_in_threadpool(localised, request, form, **request.path_params)

    return route


def build_console_router(controller: ConsentController, signer: SessionSigner) -> APIRouter:
    """The console's routes over ``controller``, its sessions signed by ``signer``."""
    console = _Console(controller, signer)
    router = APIRouter(prefix="/console", include_in_schema=False)
    pages: list[tuple[str, Callable[..., Response]]] = [
        ("", console.index),
        ("/login", console.login),
        ("/subjects", console.subjects),
        ("/subjects/{subject}", console.subject),
        ("/subjects/{subject}/report", console.report),
        ("/policy", console.policy),
        ("/expiring", console.expiring),
        ("/erasures", console.erasures),
        ("/exports", console.exports),
        ("/exports/{kind}", console.export),
        ("/bulk", console.bulk),
    ]
    for path, page in pages:
        router.add_api_route(path, _getting(page), methods=["GET"], response_class=HTMLResponse)
    forms: list[tuple[str, _FormHandler]] = [
        ("/login", console.do_login),
        ("/logout", console.do_logout),
        ("/search", console.do_search),
        ("/subjects/{subject}/consents", console.do_grant),
        ("/subjects/{subject}/consents/{consent_id}/withdraw", console.do_withdraw),
        ("/bulk/preview", console.do_bulk_preview),
        ("/bulk", console.do_bulk),
    ]
    for path, handler in forms:
        router.add_api_route(
            path, _posting(console, handler), methods=["POST"], response_class=HTMLResponse
        )
    return router
