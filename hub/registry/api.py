"""The Confluent Schema Registry REST API, the subset partner tools use.

Thin layers, as in Karapace: the FastAPI routes only read the request and call the
:class:`RegistryController`, which turns service results into Confluent's JSON; the
:class:`~hub.registry.service.RegistryService` does the work. Every error becomes
Confluent's error JSON (``{"error_code": 40401, "message": "..."}``) in one place,
:func:`error_response`.

Routes::

    GET    /                                        {}
    GET    /schemas/types                           ["AVRO"]
    GET    /subjects[?deleted=&subjectPrefix=]
    GET    /subjects/{s}/versions[?deleted=]
    GET    /subjects/{s}/versions/{v|latest}[?deleted=]
    GET    /subjects/{s}/versions/{v|latest}/schema
    GET    /subjects/{s}/versions/{v}/referencedby
    POST   /subjects/{s}/versions                    register -> {"id": n}
    POST   /subjects/{s}[?deleted=]                  lookup
    DELETE /subjects/{s}[?permanent=]
    DELETE /subjects/{s}/versions/{v|latest}[?permanent=]
    GET    /schemas/ids/{id}  /schemas/ids/{id}/schema  /versions  /subjects
    POST   /compatibility/subjects/{s}/versions[/{v|latest}][?verbose=]
    GET|PUT|DELETE /config  and  /config/{s}[?defaultToGlobal=]
    GET    /mode  /mode/{s}                          {"mode": "READWRITE"}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.errors import HubError
from hub.metrics import HubMetrics
from hub.observability import ReadinessCheck, observability_router
from hub.registry.errors import RegistryError, http_status
from hub.registry.schema import AVRO, SchemaReference
from hub.registry.service import RegistryService, SchemaInput
from hub.registry.store import SchemaText, StoredVersion

__all__ = [
    "CONTENT_TYPE",
    "RegistryController",
    "SchemaRequest",
    "create_app",
    "error_response",
]

_LOG = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryJSONResponse(JSONResponse):
    media_type = CONTENT_TYPE


# --- request bodies -----------------------------------------------------------------------------


class ReferenceModel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    subject: str
    version: int


class SchemaRequest(BaseModel):
    """Body of register, lookup and compatibility requests (unknown fields are ignored)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_text: str = Field(alias="schema", description="The schema, as a JSON string.")
    schema_type: str = Field(default=AVRO, alias="schemaType")
    references: list[ReferenceModel] | None = None

    def to_input(self) -> SchemaInput:
        return SchemaInput(
            schema=self.schema_text,
            schema_type=self.schema_type or AVRO,
            references=tuple(
                SchemaReference(r.name, r.subject, r.version) for r in self.references or ()
            ),
        )


class ConfigRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    compatibility: str | None = None
    compatibility_level: str | None = Field(default=None, alias="compatibilityLevel")


# --- controller --------------------------------------------------------------------------------


def _schema_json(text: SchemaText) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": text.text}
    if text.references:
        body["references"] = [r.to_json() for r in text.references]
    return body


def _version_json(entry: StoredVersion) -> dict[str, Any]:
    return {
        "subject": entry.subject,
        "version": entry.version,
        "id": entry.schema_id,
        **_schema_json(entry.schema),
    }


class RegistryController:
    """Service results as Confluent's response bodies."""

    def __init__(self, service: RegistryService) -> None:
        self.service = service

    def subjects(self, *, deleted: bool, prefix: str) -> list[str]:
        return self.service.subjects(deleted=deleted, prefix=prefix)

    def versions(self, subject: str, *, deleted: bool) -> list[int]:
        return self.service.versions(subject, deleted=deleted)

    def version(self, subject: str, version: str, *, deleted: bool) -> dict[str, Any]:
        return _version_json(self.service.get_version(subject, version, deleted=deleted))

    def raw_schema(self, subject: str, version: str, *, deleted: bool) -> Any:
        return json.loads(self.service.get_version(subject, version, deleted=deleted).schema.text)

    def raw_schema_by_id(self, schema_id: int) -> Any:
        return json.loads(self.service.schema_by_id(schema_id).text)

    def referenced_by(self, subject: str, version: str) -> list[int]:
        return sorted({u.schema_id for u in self.service.referrers(subject, version)})

    def register(self, subject: str, body: SchemaRequest) -> dict[str, Any]:
        entry = self.service.register(subject, body.to_input())
        return {"id": entry.schema_id}

    def lookup(self, subject: str, body: SchemaRequest, *, deleted: bool) -> dict[str, Any]:
        return _version_json(self.service.lookup(subject, body.to_input(), deleted=deleted))

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        return _schema_json(self.service.schema_by_id(schema_id))

    def schema_id_versions(self, schema_id: int, *, deleted: bool) -> list[dict[str, Any]]:
        self.service.schema_by_id(schema_id)
        return [
            {"subject": e.subject, "version": e.version}
            for e in self.service.usages(schema_id, deleted=deleted)
        ]

    def schema_id_subjects(self, schema_id: int, *, deleted: bool) -> list[str]:
        self.service.schema_by_id(schema_id)
        return sorted({e.subject for e in self.service.usages(schema_id, deleted=deleted)})

    def compatibility(
        self, subject: str, version: str | None, body: SchemaRequest, *, verbose: bool
    ) -> dict[str, Any]:
        report = self.service.check(subject, body.to_input(), version)
        result: dict[str, Any] = {"is_compatible": report.is_compatible}
        if verbose:
            result["messages"] = report.messages
        return result

    def get_config(self, subject: str | None, *, default_to_global: bool) -> dict[str, Any]:
        level = self.service.get_config(subject, default_to_global=default_to_global)
        return {"compatibilityLevel": level}

    def set_config(self, subject: str | None, body: ConfigRequest) -> dict[str, Any]:
        requested = body.compatibility or body.compatibility_level
        return {"compatibility": self.service.set_config(subject, requested or "").value}

    def delete_config(self, subject: str | None) -> dict[str, Any]:
        return {"compatibilityLevel": self.service.delete_config(subject)}

    def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        return self.service.delete_subject(subject, permanent=permanent)

    def delete_version(self, subject: str, version: str, *, permanent: bool) -> int:
        return self.service.delete_version(subject, version, permanent=permanent)


# --- errors: the one mapping ----------------------------------------------------------------------


def error_response(exc: Exception) -> RegistryJSONResponse:
    """Confluent's error JSON and HTTP status for any exception reaching the API."""
    if isinstance(exc, RegistryError):
        code, message = exc.error_code, exc.message
    elif isinstance(exc, RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        code, message = 422, f"Unprocessable Entity: {problems}"
    elif isinstance(exc, StarletteHTTPException):
        code, message = exc.status_code, f"HTTP {exc.status_code} {exc.detail}"
    elif isinstance(exc, HubError):
        code, message = 50001, f"Error in the backend data store: {exc}"
    else:
        _LOG.exception("registry request failed", exc_info=exc)
        code, message = 50001, f"Internal error: {type(exc).__name__}"
    return RegistryJSONResponse(
        {"error_code": code, "message": message}, status_code=http_status(code)
    )


async def _handle(_request: Request, exc: Exception) -> RegistryJSONResponse:
    return error_response(exc)


# --- routes ------------------------------------------------------------------------------------


def _router(ctl: RegistryController) -> APIRouter:
    r = APIRouter(default_response_class=RegistryJSONResponse)

    @r.get("/")
    def root() -> dict[str, Any]:
        return {}

    @r.get("/schemas/types")
    def schema_types() -> list[str]:
        return [AVRO]

    @r.get("/subjects")
    def subjects(deleted: bool = False, subjectPrefix: str = "") -> list[str]:  # noqa: N803
        return ctl.subjects(deleted=deleted, prefix=subjectPrefix)

    @r.get("/subjects/{subject}/versions")
    def versions(subject: str, deleted: bool = False) -> list[int]:
        return ctl.versions(subject, deleted=deleted)

    @r.get("/subjects/{subject}/versions/{version}")
    def version(subject: str, version: str, deleted: bool = False) -> dict[str, Any]:
        return ctl.version(subject, version, deleted=deleted)

    @r.get("/subjects/{subject}/versions/{version}/schema")
    def raw_schema(subject: str, version: str, deleted: bool = False) -> Any:
        return ctl.raw_schema(subject, version, deleted=deleted)

    @r.get("/subjects/{subject}/versions/{version}/referencedby")
    def referenced_by(subject: str, version: str) -> list[int]:
        return ctl.referenced_by(subject, version)

    @r.post("/subjects/{subject}/versions")
    def register(subject: str, body: SchemaRequest, normalize: bool = False) -> dict[str, Any]:
        return ctl.register(subject, body)

    @r.post("/subjects/{subject}")
    def lookup(
        subject: str, body: SchemaRequest, deleted: bool = False, normalize: bool = False
    ) -> dict[str, Any]:
        return ctl.lookup(subject, body, deleted=deleted)

    @r.delete("/subjects/{subject}")
    def delete_subject(subject: str, permanent: bool = False) -> list[int]:
        return ctl.delete_subject(subject, permanent=permanent)

    @r.delete("/subjects/{subject}/versions/{version}")
    def delete_version(subject: str, version: str, permanent: bool = False) -> int:
        return ctl.delete_version(subject, version, permanent=permanent)

    @r.get("/schemas/ids/{schema_id}")
    def schema_by_id(schema_id: int, subject: str | None = None) -> dict[str, Any]:
        return ctl.schema_by_id(schema_id)

    @r.get("/schemas/ids/{schema_id}/schema")
    def raw_schema_by_id(schema_id: int) -> Any:
        return ctl.raw_schema_by_id(schema_id)

    @r.get("/schemas/ids/{schema_id}/versions")
    def schema_id_versions(schema_id: int, deleted: bool = False) -> list[dict[str, Any]]:
        return ctl.schema_id_versions(schema_id, deleted=deleted)

    @r.get("/schemas/ids/{schema_id}/subjects")
    def schema_id_subjects(schema_id: int, deleted: bool = False) -> list[str]:
        return ctl.schema_id_subjects(schema_id, deleted=deleted)

    @r.post("/compatibility/subjects/{subject}/versions")
    def compatibility_all(
        subject: str, body: SchemaRequest, verbose: bool = False, normalize: bool = False
    ) -> dict[str, Any]:
        return ctl.compatibility(subject, None, body, verbose=verbose)

    @r.post("/compatibility/subjects/{subject}/versions/{version}")
    def compatibility(
        subject: str,
        version: str,
        body: SchemaRequest,
        verbose: bool = False,
        normalize: bool = False,
    ) -> dict[str, Any]:
        return ctl.compatibility(subject, version, body, verbose=verbose)

    @r.get("/config")
    def get_global_config() -> dict[str, Any]:
        return ctl.get_config(None, default_to_global=True)

    @r.put("/config")
    def set_global_config(body: ConfigRequest) -> dict[str, Any]:
        return ctl.set_config(None, body)

    @r.delete("/config")
    def delete_global_config() -> dict[str, Any]:
        return ctl.delete_config(None)

    @r.get("/config/{subject}")
    def get_config(subject: str, defaultToGlobal: bool = False) -> dict[str, Any]:  # noqa: N803
        return ctl.get_config(subject, default_to_global=defaultToGlobal)

    @r.put("/config/{subject}")
    def set_config(subject: str, body: ConfigRequest) -> dict[str, Any]:
        return ctl.set_config(subject, body)

    @r.delete("/config/{subject}")
    def delete_config(subject: str) -> dict[str, Any]:
        return ctl.delete_config(subject)

    @r.get("/mode")
    def get_mode() -> dict[str, Any]:
        return {"mode": "READWRITE"}

    @r.get("/mode/{subject}")
    def get_subject_mode(subject: str) -> dict[str, Any]:
        return {"mode": "READWRITE"}

    return r


def create_app(
    service: RegistryService,
    *,
    metrics: HubMetrics | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """The registry as an ASGI app over ``service`` (serve it with hub.http.HttpServer),
    with ``/metrics``, ``/healthz`` and ``/readyz`` (:mod:`hub.observability`; the
    process's metrics unless ``metrics`` is given, ``readiness`` checks the store serving
    by default)."""
    app = FastAPI(
        title="rmt-hub schema registry",
        description="Confluent-compatible schema registry of the rmt-hub (embedded mode).",
        version="1",
        default_response_class=RegistryJSONResponse,
    )
    app.include_router(_router(RegistryController(service)))
    checks = readiness if readiness is not None else {"store": service.subjects}
    app.include_router(observability_router(metrics, checks))
    for exc_type in (RegistryError, HubError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(exc_type, _handle)
    app.add_exception_handler(Exception, _handle)
    return app
