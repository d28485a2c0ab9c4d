"""``/metrics``, ``/healthz`` and ``/readyz`` for every HTTP app of the hub.

:func:`observability_router` is a small FastAPI router an app includes::

    app.include_router(
        observability_router(process_metrics(), {"broker": broker_check(settings),
                                                 "store": store.schema_version})
    )

* ``GET /metrics`` - the process's :class:`hub.metrics.HubMetrics` in the Prometheus
  text format;
* ``GET /healthz`` - liveness: 200 ``{"status": "ok"}`` while the process serves;
* ``GET /readyz`` - readiness: runs every check (a callable that raises when its
  dependency is not ready); 200 ``{"status": "ready", "checks": {...}}`` when all pass,
  else 503 ``{"status": "not_ready", ...}`` naming the failing check and the error's
  class (a :class:`~hub.errors.HubError`'s message too; other messages may carry
  connection details, so they are left out).

None of them needs a key, and none returns anything personal.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from hub.config import HubSettings
from hub.errors import BrokerUnavailable, HubError
from hub.metrics import CONTENT_TYPE, HubMetrics, process_metrics

__all__ = ["ReadinessCheck", "broker_check", "observability_router", "run_checks"]

ReadinessCheck = Callable[[], object]
"""Raises when the dependency it checks is not ready; the return value is ignored."""

_MAX_DETAIL = 200


def broker_check(settings: HubSettings, timeout_s: float = 1.0) -> ReadinessCheck:
    """A check that some bootstrap server accepts a TCP connection (cheap; no Kafka client)."""

    def check() -> None:
        servers = (settings.bootstrap_servers or "").split(",")
        last: OSError | None = None
        for server in filter(None, servers):
            host, _, port = server.rpartition(":")
            try:
                with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                    return
            except OSError as exc:
                last = exc
        reason = f" ({last.strerror or type(last).__name__})" if last else ""
        raise BrokerUnavailable(f"no bootstrap server accepts connections{reason}")

    return check


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HubError):
        return f"{type(exc).__name__}: {str(exc)[:_MAX_DETAIL]}"
    return type(exc).__name__


def run_checks(checks: Mapping[str, ReadinessCheck]) -> tuple[bool, dict[str, str]]:
    """Run every check; (all passed, name -> "ok" or what failed)."""
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # a failing check is an answer, not an error
            results[name] = f"failed: {_describe(exc)}"
        else:
            results[name] = "ok"
    return all(r == "ok" for r in results.values()), results


def observability_router(
    metrics: HubMetrics | None = None, readiness: Mapping[str, ReadinessCheck] | None = None
) -> APIRouter:
    """``/metrics``, ``/healthz`` and ``/readyz`` over ``metrics`` (default: the process's)."""
    served = metrics if metrics is not None else process_metrics()
    checks = dict(readiness or {})
    router = APIRouter(tags=["observability"])

    @router.get("/metrics", response_class=Response)
    def metrics_endpoint() -> Response:
        """Prometheus metrics of this process (text exposition format)."""
        return Response(served.exposition(), media_type=CONTENT_TYPE)

    @router.get("/healthz", response_class=JSONResponse)
    def healthz() -> JSONResponse:
        """Liveness: the process is up and serving."""
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", response_class=JSONResponse)
    def readyz() -> JSONResponse:
        """Readiness: every dependency (broker, store, ...) answers."""
        ready, results = run_checks(checks)
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return router
