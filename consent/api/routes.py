"""The HTTP routes: thin, each hands its caller and body to the controller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, Security
from fastapi.responses import HTMLResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from consent.api.auth import API_KEY_HEADER, Principal, authenticate
from consent.api.controller import ConsentController
from consent.api.dto import (
    BsnLookupRequest,
    BsnLookupResponse,
    ConsentView,
    DecisionRequest,
    DecisionView,
    EventView,
    GrantRequest,
    Health,
    PolicyView,
    StatsView,
    SubjectConsents,
    WithdrawRequest,
)
from consent.model import PSEUDONYM_PATTERN
from consent.report import AccessReport
from hub.ids import ClientPseudonym, ConsentId

__all__ = ["build_router"]

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No, an unknown or a revoked API key"},
    403: {"description": "The key's role or partner may not do this"},
    422: {"description": "Invalid request; detail[].loc names the field"},
}

SubjectPath = Annotated[
    ClientPseudonym, Path(pattern=PSEUDONYM_PATTERN, description="Client pseudonym")
]
ConsentPath = Annotated[ConsentId, Path(min_length=1, max_length=100)]

_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="API key")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token")


def _principal(
    request: Request,
    key: Annotated[str | None, Security(_api_key)],
    token: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    controller: ConsentController = request.app.state.consent_controller
    return authenticate(controller.service.store, key or (token.credentials if token else None))


Caller = Annotated[Principal, Depends(_principal)]


def build_router(controller: ConsentController) -> APIRouter:
    """All routes of the consent service, bound to ``controller``.

    The app must also hold the controller in ``app.state.consent_controller`` (for the
    API-key dependency); :func:`consent.api.create_app` does both.
    """
    service = controller.service
    router = APIRouter()

    @router.get("/health", tags=["service"])
    def health() -> Health:
        """Liveness and the store's schema version (no key needed)."""
        return Health(status="ok", schema_version=service.store.schema_version())

    @router.post("/v1/consents", status_code=201, tags=["consents"], responses={**_ERRORS, 409: {}})
    def grant(caller: Caller, request: GrantRequest) -> ConsentView:
        """Record a consent (privacy officer). Returns once stored and published."""
        return controller.grant(caller, request)

    @router.get("/v1/consents/{consent_id}", tags=["consents"], responses={**_ERRORS, 404: {}})
    def show(caller: Caller, consent_id: ConsentPath) -> ConsentView:
        """One consent (privacy officer, or a partner party to it)."""
        return controller.show(caller, consent_id)

    @router.get(
        "/v1/consents/{consent_id}/history", tags=["consents"], responses={**_ERRORS, 404: {}}
    )
    def history(caller: Caller, consent_id: ConsentPath) -> list[EventView]:
        """Every event of one consent, hash-chained."""
        return controller.history(caller, consent_id)

    @router.post(
        "/v1/consents/{consent_id}/withdraw", tags=["consents"], responses={**_ERRORS, 404: {}}
    )
    def withdraw(
        caller: Caller,
        consent_id: ConsentPath,
        request: Annotated[WithdrawRequest | None, Body()] = None,
    ) -> ConsentView:
        """Withdraw (privacy officer); idempotent. Returns once stored and published."""
        return controller.withdraw(caller, consent_id, request)

    @router.get("/v1/subjects/{subject}/consents", tags=["subjects"], responses=_ERRORS)
    def for_subject(caller: Caller, subject: SubjectPath) -> SubjectConsents:
        """A subject's consents (privacy officer, or a partner party to the subject)."""
        return controller.for_subject(caller, subject)

    @router.post("/v1/subjects/lookup", tags=["subjects"], responses=_ERRORS)
    def lookup(caller: Caller, request: BsnLookupRequest) -> BsnLookupResponse:
        """Subjects with this BSN on file (privacy officer; the BSN goes in the body)."""
        return controller.lookup(caller, request)

    @router.get("/v1/subjects/{subject}/access-report", tags=["subjects"], responses=_ERRORS)
    def access_report(caller: Caller, subject: SubjectPath) -> AccessReport:
        """Who received what about the subject, when, on which basis (privacy officer)."""
        return controller.access_report(caller, subject)

    @router.get(
        "/v1/subjects/{subject}/access-report.html",
        tags=["subjects"],
        response_class=HTMLResponse,
        responses=_ERRORS,
    )
    def access_report_html(caller: Caller, subject: SubjectPath) -> HTMLResponse:
        """The access report as a readable page (privacy officer)."""
        return HTMLResponse(controller.access_report_html(caller, subject))

    @router.post("/v1/decisions", tags=["decisions"], responses=_ERRORS)
    def decide(caller: Caller, request: DecisionRequest) -> DecisionView:
        """May partner P receive categories C of subject S for purpose U now? (A partner
        key may only ask about itself.)"""
        return controller.decide(caller, request)

    @router.get("/v1/policy", tags=["policy"], responses=_ERRORS)
    def policy(caller: Caller) -> PolicyView:
        """The policy matrix: partner kind x purpose -> categories that may ever flow."""
        return controller.policy(caller)

    @router.get("/v1/stats", tags=["policy"], responses=_ERRORS)
    def stats(caller: Caller) -> StatsView:
        """Consents per status (aggregates only; privacy officer and monitor)."""
        return controller.stats(caller)

    return router
