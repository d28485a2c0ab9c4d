"""The consent service's HTTP API (FastAPI; OpenAPI at ``/openapi.json``, docs at ``/docs``).

router (:mod:`consent.api.routes`) -> controller (:mod:`consent.api.controller`, roles
and response bodies) -> service (:mod:`consent.service`, use cases); errors become HTTP
statuses in one place (:mod:`consent.api.errors`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from fastapi import FastAPI

from consent.api.auth import (
    API_KEY_HEADER,
    Principal,
    authenticate,
    hash_key,
    issue_key,
    issue_run_key,
)
from consent.api.controller import ConsentController
from consent.api.errors import install_error_handlers
from consent.api.routes import build_router
from consent.api.throttle import AuthThrottle
from consent.console import SessionSigner, build_console_router
from consent.service import ConsentService
from consent.subject_keys import SubjectKeyService
from hub import __version__
from hub.metrics import HubMetrics
from hub.observability import ReadinessCheck, observability_router

__all__ = [
    "API_KEY_HEADER",
    "AuthThrottle",
    "ConsentController",
    "Principal",
    "authenticate",
    "create_app",
    "hash_key",
    "issue_key",
    "issue_run_key",
]

_DESCRIPTION = """
The consent register of the regional mobility teams: privacy officers record and
withdraw what a job seeker agreed to (which partner may see which data, for which
purpose, until when); partner systems ask decisions; the hub enforces them.

Send an API key in the `X-API-Key` header. Roles: **privacy_officer** (read/write),
**partner** (decisions about itself, about the subjects it is party to, and those
subjects' consents naming it; never who recorded or withdrew them, nor free text; the
subject keys of the sealed health fields while a consent entitles it, wrapped to its own
key),
**monitor** (aggregates only). Each route names its roles in `x-roles`; the role is
checked before the body is read (a wrong role gets 403 whatever it sends). Unknown keys
are throttled per address (429 with `Retry-After`).

Privacy officers also have a web console at `/console` (sign in with the key). Without a
key: `/metrics` (Prometheus), `/healthz` (alive) and `/readyz` (store and broker ready).
"""


def create_app(
    service: ConsentService,
    *,
    metrics: HubMetrics | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    console_secret: bytes | None = None,
    auth_throttle: AuthThrottle | None = None,
    subject_keys: SubjectKeyService | None = None,
) -> FastAPI:
    """The ASGI app over ``service``: the API, the privacy officer console (``/console``),
    and ``/metrics``, ``/healthz``, ``/readyz`` (:mod:`hub.observability`).

    ``metrics`` defaults to the process's; ``readiness`` defaults to the store answering.
    ``console_secret`` signs console sessions (:func:`consent.console.session_secret`; a
    random one when None, so sessions then last only as long as this process).
    ``auth_throttle`` counts unknown keys per address (API and console sign-in); a new
    :class:`AuthThrottle` with its defaults when None. ``subject_keys`` grants subject
    keys to entitled partners (None: record security is off, there are none).
    """
    app = FastAPI(
        title="rmt-hub consent service",
        version=__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    install_error_handlers(app)
    controller = ConsentController(service, auth_throttle, subject_keys=subject_keys)
    app.state.consent_controller = controller
    app.include_router(build_router(controller))
    checks = readiness if readiness is not None else {"store": service.store.schema_version}
    app.include_router(observability_router(metrics, checks))
    signer = SessionSigner(console_secret or secrets.token_bytes(32))
    app.include_router(build_console_router(controller, signer))
    return app
