"""The HTTP routes: thin, each hands its caller and body to the controller.

Who may call a route is checked before anything of the request is read: every route
with a caller is an :class:`_AuthorisedRoute`, which authenticates the key (throttled
per source address) and checks the roles named in the route's ``x-roles`` before
FastAPI parses and validates the body. A partner posting a malformed grant is told 403,
not what is wrong with the body.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, Security
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from consent.api.auth import API_KEY_HEADER, Principal, authenticate
from consent.api.controller import MAX_EXPIRING_DAYS, ConsentController
from consent.api.dto import (
    BsnLookupRequest,
    BsnLookupResponse,
    BulkPreviewView,
    BulkWithdrawalView,
    BulkWithdrawRequest,
    ConsentView,
    DecisionRequest,
    DecisionView,
    ErrorView,
    EventView,
    ExpiringPage,
    GrantRequest,
    Health,
    InvalidView,
    PolicyView,
    StatsView,
    SubjectConsents,
    SubjectKeyGrantView,
    WithdrawRequest,
)
from consent.bulk import BulkSelection
from consent.erasures import AcknowledgeRequest, ErasureList, ErasureNoticeView, ErasureStatus
from consent.exports import ExportFormat
from consent.model import PARTNER_ID_PATTERN, PSEUDONYM_PATTERN, Role
from consent.report import AccessReport
from consent.store import Window
from hub.i18n import negotiate
from hub.ids import ClientPseudonym, ConsentId, PartnerId

__all__ = ["EXPORT_MEDIA_TYPES", "build_router", "export_response"]

EXPORT_MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/x-ndjson",
}
_EXPORT_SUFFIX = {ExportFormat.CSV: "csv", ExportFormat.JSON: "jsonl"}

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorView, "description": "No, an unknown or a revoked API key"},
    403: {"model": ErrorView, "description": "The key's role or partner may not do this"},
    422: {"model": InvalidView, "description": "Invalid request; detail[].loc names the field"},
    429: {
        "model": ErrorView,
        "description": "Too many unknown API keys from this address; see Retry-After",
    },
    503: {
        "model": ErrorView,
        "description": "The store or the broker is unavailable, or a change is stored but "
        "not yet published; see Retry-After",
    },
}
_HTML_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": response["description"],
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{response['model'].__name__}"}
            }
        },
    }
    for status, response in _ERRORS.items()
}
"""The errors of a route answering HTML: JSON all the same."""
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ErrorView, "description": "No such consent"},
}
_OFFICER = (Role.PRIVACY_OFFICER,)
_PARTY = (Role.PRIVACY_OFFICER, Role.PARTNER)
_PARTNER_ONLY = (Role.PARTNER,)
_ANY = (Role.PRIVACY_OFFICER, Role.PARTNER, Role.MONITOR)
_AGGREGATES = (Role.PRIVACY_OFFICER, Role.MONITOR)
ROLES_EXTENSION = "x-roles"
"""The OpenAPI extension of a route naming the roles that may call it."""


def _roles(roles: tuple[Role, ...]) -> dict[str, Any]:
    return {ROLES_EXTENSION: [r.value for r in roles]}


def _key_of(request: Request) -> str | None:
    """The API key of the ``X-API-Key`` header, else of ``Authorization: Bearer``."""
    key = request.headers.get(API_KEY_HEADER)
    if key:
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return (credentials.strip() or None) if scheme.lower() == "bearer" else None


def _authorise(request: Request, roles: tuple[Role, ...]) -> Principal:
    controller: ConsentController = request.app.state.consent_controller
    source = request.client.host if request.client else "unknown"
    principal = authenticate(
        controller.service.store, _key_of(request), throttle=controller.throttle, source=source
    )
    principal.require(*roles)
    return principal


class _AuthorisedRoute(APIRoute):
    """A route that authenticates and checks roles before the request is parsed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        named = (self.openapi_extra or {}).get(ROLES_EXTENSION)
        if named is None:
            return handler
        roles = tuple(Role(r) for r in named)

        async def authorised(request: Request) -> Response:
            request.state.principal = await run_in_threadpool(_authorise, request, roles)
            return await handler(request)

        return authorised


SubjectPath = Annotated[
    ClientPseudonym, Path(pattern=PSEUDONYM_PATTERN, description="Client pseudonym")
]
ConsentPath = Annotated[ConsentId, Path(min_length=1, max_length=100)]
KeyIdPath = Annotated[
    str, Path(pattern=r"^[0-9a-f]{32}$", description="Subject key id, as in a sealed token")
]

_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="API key")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token")


def _principal(
    request: Request,
    _key: Annotated[str | None, Security(_api_key)],
    _token: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    """The caller :class:`_AuthorisedRoute` authorised (the parameters document the
    security schemes in OpenAPI)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError("a route with a caller must name its roles (x-roles)")
    return principal


Caller = Annotated[Principal, Depends(_principal)]


def _window(
    partner: Annotated[
        PartnerId | None,
        Query(pattern=PARTNER_ID_PATTERN, description="Only this partner (see the route)."),
    ] = None,
    subject: Annotated[
        ClientPseudonym | None, Query(pattern=PSEUDONYM_PATTERN, description="Only this subject.")
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(alias="from", description="From this moment (included).")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Until this moment (not included).")
    ] = None,
) -> Window:
    return Window(partner=partner, subject=subject, since=since, until=until)


ExportWindow = Annotated[Window, Depends(_window)]
ExportFormatQuery = Annotated[
    ExportFormat, Query(alias="format", description="csv, or json (JSON lines)")
]


def export_response(lines: Iterator[str], fmt: ExportFormat, name: str) -> StreamingResponse:
    """``lines`` streamed as a download ``name``.csv or ``name``.jsonl."""
    return StreamingResponse(
        lines,
        media_type=EXPORT_MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{_EXPORT_SUFFIX[fmt]}"',
            "Cache-Control": "no-store",
        },
    )


_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_HTML_ERRORS,
    200: {
        "description": "The export, streamed",
        "content": {media: {"schema": {"type": "string"}} for media in EXPORT_MEDIA_TYPES.values()},
    },
}


def build_router(controller: ConsentController) -> APIRouter:
    """All routes of the consent service, bound to ``controller``.

    The app must also hold the controller in ``app.state.consent_controller`` (for the
    API-key dependency); :func:`consent.api.create_app` does both.
    """
    service = controller.service
    router = APIRouter(route_class=_AuthorisedRoute)

    @router.get("/health", tags=["service"])
    def health() -> Health:
        """Liveness and the store's schema version (no key needed)."""
        return Health(status="ok", schema_version=service.store.schema_version())

    @router.post(
        "/v1/consents",
        status_code=201,
        tags=["consents"],
        responses={
            **_ERRORS,
            409: {"model": ErrorView, "description": "The subject has another BSN on record"},
        },
        openapi_extra=_roles(_OFFICER),
    )
    def grant(
        caller: Caller,
        request: GrantRequest,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=200,
                pattern=r"^[\x21-\x7e]+$",
                description=(
                    "Makes a retry safe: a repeat of this request with the same key returns "
                    "the consent the first one recorded; the same key with other terms "
                    "is refused (422)."
                ),
            ),
        ] = None,
    ) -> ConsentView:
        """Record a consent (privacy officer). Returns once stored and published."""
        return controller.grant(caller, request, idempotency_key=idempotency_key)

    @router.get(
        "/v1/consents/expiring",
        tags=["officer"],
        responses=_ERRORS,
        openapi_extra=_roles(_OFFICER),
    )
    def expiring(
        caller: Caller,
        days: Annotated[int, Query(ge=1, le=MAX_EXPIRING_DAYS)] = 30,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
    ) -> ExpiringPage:
        """GIVEN consents whose valid_until falls within the next ``days`` days, soonest
        first, paged (privacy officer)."""
        return controller.expiring(caller, days, limit, cursor)

    @router.get(
        "/v1/consents/{consent_id}",
        tags=["consents"],
        responses=_NOT_FOUND,
        openapi_extra=_roles(_PARTY),
    )
    def show(caller: Caller, consent_id: ConsentPath) -> ConsentView:
        """One consent (privacy officer, or a partner party to it)."""
        return controller.show(caller, consent_id)

    @router.get(
        "/v1/consents/{consent_id}/record.jsonld",
        tags=["consents"],
        response_class=JSONResponse,
        responses={
            **_NOT_FOUND,
            200: {
                "content": {"application/ld+json": {}},
                "description": "An ISO/IEC TS 27560 consent record in the W3C DPV",
            },
        },
        openapi_extra=_roles(_PARTY),
    )
    def record_jsonld(caller: Caller, consent_id: ConsentPath) -> JSONResponse:
        """One consent as an ISO/IEC TS 27560 consent record in W3C DPV JSON-LD (privacy
        officer, or a partner party to it)."""
        return JSONResponse(
            controller.record_jsonld(caller, consent_id), media_type="application/ld+json"
        )

    @router.get(
        "/v1/consents/{consent_id}/history",
        tags=["consents"],
        responses=_NOT_FOUND,
        openapi_extra=_roles(_PARTY),
    )
    def history(caller: Caller, consent_id: ConsentPath) -> list[EventView]:
        """Every event of one consent, hash-chained."""
        return controller.history(caller, consent_id)

    @router.post(
        "/v1/consents/{consent_id}/withdraw",
        tags=["consents"],
        responses=_NOT_FOUND,
        openapi_extra=_roles(_OFFICER),
    )
    def withdraw(
        caller: Caller,
        consent_id: ConsentPath,
        request: Annotated[WithdrawRequest | None, Body()] = None,
    ) -> ConsentView:
        """Withdraw (privacy officer); idempotent. Returns once stored and published."""
        return controller.withdraw(caller, consent_id, request)

    @router.get(
        "/v1/subjects/{subject}/consents",
        tags=["subjects"],
        responses=_ERRORS,
        openapi_extra=_roles(_PARTY),
    )
    def for_subject(caller: Caller, subject: SubjectPath) -> SubjectConsents:
        """A subject's consents (privacy officer, or a partner party to the subject)."""
        return controller.for_subject(caller, subject)

    @router.post(
        "/v1/subjects/lookup",
        tags=["subjects"],
        responses=_ERRORS,
        openapi_extra=_roles(_OFFICER),
    )
    def lookup(caller: Caller, request: BsnLookupRequest) -> BsnLookupResponse:
        """Subjects with this BSN on file (privacy officer; the BSN goes in the body)."""
        return controller.lookup(caller, request)

    @router.get(
        "/v1/subject-keys/{subject}/{key_id}",
        tags=["subjects"],
        responses={
            **_ERRORS,
            403: {
                "model": ErrorView,
                "description": "Not a partner key, or no consent entitles the partner to the "
                "subject's sealed (health) data now",
            },
            404: {"model": ErrorView, "description": "The subject has no such key"},
            409: {
                "model": ErrorView,
                "description": "The partner has no current encryption key in the directory",
            },
            410: {"model": ErrorView, "description": "The key was destroyed (erasure)"},
        },
        openapi_extra=_roles(_PARTNER_ONLY),
    )
    def subject_key(
        caller: Caller, subject: SubjectPath, key_id: KeyIdPath, response: Response
    ) -> SubjectKeyGrantView:
        """The subject key that opens the sealed special-category fields of a delivery
        (partner): granted only while a consent entitles the partner to the subject's
        health data, wrapped to the partner's current X25519 key; keep it at most
        ``cache_for_s`` seconds."""
        response.headers["Cache-Control"] = "no-store"
        return controller.subject_key(caller, subject, key_id)

    @router.get(
        "/v1/subjects/{subject}/access-report",
        tags=["subjects"],
        responses=_ERRORS,
        openapi_extra=_roles(_OFFICER),
    )
    def access_report(caller: Caller, subject: SubjectPath) -> AccessReport:
        """Who received what about the subject, when, on which basis (privacy officer)."""
        return controller.access_report(caller, subject)

    @router.get(
        "/v1/subjects/{subject}/access-report.html",
        tags=["subjects"],
        response_class=HTMLResponse,
        responses=_HTML_ERRORS,
        openapi_extra=_roles(_OFFICER),
    )
    def access_report_html(
        caller: Caller,
        subject: SubjectPath,
        lang: Annotated[
            str | None,
            Query(pattern="^(nl|en)$", description="nl (the default) or en."),
        ] = None,
        accept_language: Annotated[str | None, Header(max_length=500)] = None,
    ) -> HTMLResponse:
        """The access report as a readable page (privacy officer), in Dutch unless English
        is asked for (``lang``, else ``Accept-Language``)."""
        chosen = negotiate(lang, accept_language)
        page = controller.access_report_html(caller, subject, chosen)
        return HTMLResponse(page, headers={"Content-Language": chosen, "Vary": "Accept-Language"})

    _erasure_routes(router, controller)

    @router.post(
        "/v1/decisions",
        tags=["decisions"],
        responses=_ERRORS,
        openapi_extra=_roles(_PARTY),
    )
    def decide(caller: Caller, request: DecisionRequest) -> DecisionView:
        """May partner P receive categories C of subject S for purpose U now? (A partner
        key may only ask about itself.)"""
        return controller.decide(caller, request)

    @router.get(
        "/v1/exports/disclosures",
        tags=["officer"],
        response_class=StreamingResponse,
        responses=_EXPORT_RESPONSES,
        openapi_extra=_roles(_OFFICER),
    )
    def export_disclosures(
        caller: Caller, window: ExportWindow, fmt: ExportFormatQuery = ExportFormat.CSV
    ) -> StreamingResponse:
        """Disclosures (``partner``: the recipient) as CSV or JSON lines, streamed
        (privacy officer)."""
        lines = controller.export_disclosures(caller, window, fmt)
        return export_response(lines, fmt, "disclosures")

    @router.get(
        "/v1/exports/consent-events",
        tags=["officer"],
        response_class=StreamingResponse,
        responses=_EXPORT_RESPONSES,
        openapi_extra=_roles(_OFFICER),
    )
    def export_events(
        caller: Caller, window: ExportWindow, fmt: ExportFormatQuery = ExportFormat.CSV
    ) -> StreamingResponse:
        """Consent events (``partner``: controller or recipient of the consent) as CSV or
        JSON lines, streamed (privacy officer)."""
        lines = controller.export_events(caller, window, fmt)
        return export_response(lines, fmt, "consent-events")

    @router.post(
        "/v1/bulk-withdrawals/preview",
        tags=["officer"],
        responses=_ERRORS,
        openapi_extra=_roles(_OFFICER),
    )
    def preview_bulk_withdrawal(caller: Caller, selection: BulkSelection) -> BulkPreviewView:
        """Which GIVEN consents naming a recipient partner, or for a purpose, a bulk
        withdrawal would withdraw; the token executes it (privacy officer)."""
        return controller.preview_bulk_withdrawal(caller, selection)

    @router.post(
        "/v1/bulk-withdrawals",
        tags=["officer"],
        responses={
            **_NOT_FOUND,
            409: {"model": ErrorView, "description": "The selection changed since the preview"},
        },
        openapi_extra=_roles(_OFFICER),
    )
    def bulk_withdraw(caller: Caller, request: BulkWithdrawRequest) -> BulkWithdrawalView:
        """Withdraw every consent of a preview (its officer only); idempotent. Returns once
        each withdrawal is stored and published."""
        return controller.bulk_withdraw(caller, request)

    @router.get("/v1/policy", tags=["policy"], responses=_ERRORS, openapi_extra=_roles(_ANY))
    def policy(caller: Caller) -> PolicyView:
        """The policy matrix: partner kind x purpose -> categories that may ever flow."""
        return controller.policy(caller)

    @router.get("/v1/stats", tags=["policy"], responses=_ERRORS, openapi_extra=_roles(_AGGREGATES))
    def stats(caller: Caller) -> StatsView:
        """Consents per status (aggregates only; privacy officer and monitor)."""
        return controller.stats(caller)

    return router


def _erasure_routes(router: APIRouter, controller: ConsentController) -> None:
    """Erasure notices and their acknowledgements (:mod:`consent.erasures`)."""

    @router.post(
        "/v1/erasure-acknowledgements",
        tags=["erasure"],
        responses={**_ERRORS, 201: {"description": "Recorded now."}},
        openapi_extra=_roles((Role.PARTNER,)),
    )
    def acknowledge_erasure(
        caller: Caller, request: AcknowledgeRequest, response: Response
    ) -> ErasureNoticeView:
        """The recipient of an erasure notice confirms it erased what the notice asked
        (partner key; only for a notice to this partner). 201 when recorded now, 200 when
        it was already acknowledged."""
        notice, new = controller.acknowledge_erasure(caller, request)
        response.status_code = 201 if new else 200
        return notice

    @router.get(
        "/v1/subjects/{subject}/erasures",
        tags=["erasure"],
        responses=_ERRORS,
        openapi_extra=_roles(_OFFICER),
    )
    def subject_erasures(caller: Caller, subject: SubjectPath) -> list[ErasureNoticeView]:
        """The erasure notices about the subject: per recipient sent, acknowledged or
        overdue (privacy officer)."""
        return controller.erasures_for(caller, subject)

    @router.get(
        "/v1/erasures",
        tags=["erasure"],
        responses=_ERRORS,
        openapi_extra=_roles(_OFFICER),
    )
    def recent_erasures(
        caller: Caller,
        days: Annotated[int, Query(ge=1, le=MAX_EXPIRING_DAYS)] = 30,
        status: Annotated[ErasureStatus | None, Query()] = None,
    ) -> ErasureList:
        """Erasure notices of consents that ended in the last ``days`` days, overdue
        first (privacy officer)."""
        return controller.recent_erasures(caller, days, status)
