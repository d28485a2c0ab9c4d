"""Errors -> HTTP responses, in one place.

=================================  ======  =======================================
error                              status  note
=================================  ======  =======================================
request body/path/query invalid    422     ``detail[].loc`` names the field
:class:`ConsentInvalid`            422     same shape, ``loc`` from its ``field``
:class:`Unauthenticated`           401     ``WWW-Authenticate: ApiKey``
:class:`Forbidden`                 403
:class:`Throttled`                 429     ``Retry-After``; failed keys from this address
:class:`ConsentNotFound`           404
:class:`ConsentConflict`           409
:class:`Gone`                      410     a destroyed subject key
:class:`PublishTimeout`            503     ``Retry-After``; the change *is* stored
store or broker unavailable        503
any other :class:`HubError`        500
=================================  ======  =======================================

Validation errors never echo the input (it may hold a BSN).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from consent.errors import (
    ConsentConflict,
    ConsentInvalid,
    ConsentNotFound,
    ConsentStoreError,
    Forbidden,
    Gone,
    PublishTimeout,
    Throttled,
    Unauthenticated,
)
from hub.errors import BrokerError, HubError

__all__ = ["STATUS", "install_error_handlers", "status_of"]

_LOG = logging.getLogger(__name__)

STATUS: tuple[tuple[type[HubError], int, str], ...] = (
    (ConsentInvalid, 422, "invalid"),
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (Throttled, 429, "throttled"),
    (ConsentNotFound, 404, "not_found"),
    (ConsentConflict, 409, "conflict"),
    (Gone, 410, "gone"),
    (PublishTimeout, 503, "not_yet_published"),
    (ConsentStoreError, 503, "store_unavailable"),
    (BrokerError, 503, "broker_unavailable"),
)


def status_of(exc: HubError) -> tuple[int, str]:
    for kind, status, code in STATUS:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal"


def _clean(error: dict[str, Any]) -> dict[str, Any]:
    """loc, msg, type and harmless context; never the input."""
    message = str(error["msg"]).removeprefix("Value error, ")
    cleaned: dict[str, Any] = {"loc": list(error["loc"]), "msg": message, "type": error["type"]}
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items() if k != "error"}
    if ctx:
        cleaned["ctx"] = ctx
    return cleaned


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=422,
        content={"error": "invalid", "detail": [_clean(e) for e in exc.errors()]},
    )


async def _hub_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubError)
    status, code = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, ConsentInvalid):
        loc: list[str | int] = ["body"]
        loc += [int(p) if p.isdigit() else p for p in exc.field.split(".")]
        detail: Any = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
    else:
        detail = str(exc)
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "ApiKey"
    if status == 503:
        headers["Retry-After"] = "1"
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(exc.retry_after_s)
    if status == 500:
        _LOG.error("consent service error: %s", exc)
    return JSONResponse(
        status_code=status, content={"error": code, "detail": detail}, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HubError, _hub_error)
