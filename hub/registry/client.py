"""A small client for any Confluent-compatible schema registry (embedded or external).

Over httpx, with optional basic auth. Confluent error JSON comes back as the matching
:mod:`hub.registry.errors` class (e.g. 409 -> :class:`IncompatibleSchemaError`); no
answer at all as :class:`RegistryUnavailableError`. Ids are cached both ways: the
schema of an id (ids never change meaning) and the id of a (subject, schema) pair.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from hub.config import HubSettings
from hub.errors import ConfigError
from hub.registry.errors import IncompatibleSchemaError, RegistryUnavailableError, error_for
from hub.registry.schema import SchemaReference, canonical_text

__all__ = ["RegisteredSchema", "RegistryClient", "client_for"]

_ACCEPT = (
    "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json"
)
_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True)
class RegisteredSchema:
    """A schema as the registry returns it; subject and version when known."""

    schema_id: int
    schema: str
    references: tuple[SchemaReference, ...] = ()
    subject: str | None = None
    version: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], *, schema_id: int | None = None) -> RegisteredSchema:
        return cls(
            schema_id=int(data["id"]) if "id" in data else int(schema_id or 0),
            schema=str(data["schema"]),
            references=tuple(SchemaReference.from_json(r) for r in data.get("references") or ()),
            subject=data.get("subject"),
            version=data.get("version"),
        )


def _segment(value: str) -> str:
    return quote(value, safe="")


class RegistryClient:
    """Talks to the registry at ``url``; thread-safe; close it (or use ``with``)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._http = httpx.Client(
            base_url=self.url,
            auth=auth,
            timeout=timeout_s,
            headers={"Accept": _ACCEPT},
        )
        self._lock = threading.Lock()
        self._by_id: dict[int, RegisteredSchema] = {}
        self._ids: dict[tuple[str, str, tuple[SchemaReference, ...]], int] = {}

    # --- plumbing -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        content = None if body is None else json.dumps(body)
        headers = {"Content-Type": _CONTENT_TYPE} if body is not None else None
        try:
            response = self._http.request(
                method, path, content=content, headers=headers, params=params
            )
        except httpx.HTTPError as exc:
            raise RegistryUnavailableError(
                f"schema registry {self.url}: {method} {path}: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        if response.is_success:
            return data
        if isinstance(data, dict) and isinstance(data.get("error_code"), int):
            message = str(data.get("message", ""))
            code = int(data["error_code"])
            if code == 409:
                raise IncompatibleSchemaError(message, _details(message))
            raise error_for(code, message)
        raise RegistryUnavailableError(
            f"schema registry {self.url}: {method} {path}: HTTP {response.status_code} "
            f"{response.text[:200]!r}"
        )

    @staticmethod
    def _schema_body(
        schema: str | dict[str, Any], references: Sequence[SchemaReference]
    ) -> tuple[str, dict[str, Any]]:
        text = schema if isinstance(schema, str) else canonical_text(schema)
        body: dict[str, Any] = {"schema": text}
        if references:
            body["references"] = [r.to_json() for r in references]
        return text, body

    # --- schemas ---------------------------------------------------------------------------

    def register(
        self,
        subject: str,
        schema: str | dict[str, Any],
        references: Sequence[SchemaReference] = (),
    ) -> int:
        """Register (or find) ``schema`` under ``subject``; returns its id."""
        text, body = self._schema_body(schema, references)
        key = (subject, text, tuple(references))
        with self._lock:
            if key in self._ids:
                return self._ids[key]
        data = self._request("POST", f"/subjects/{_segment(subject)}/versions", body=body)
        schema_id = int(data["id"])
        with self._lock:
            self._ids[key] = schema_id
        return schema_id

    def lookup(
        self,
        subject: str,
        schema: str | dict[str, Any],
        references: Sequence[SchemaReference] = (),
        *,
        deleted: bool = False,
    ) -> RegisteredSchema:
        """The subject's version holding exactly ``schema`` (SchemaNotFoundError if none)."""
        text, body = self._schema_body(schema, references)
        data = self._request(
            "POST",
            f"/subjects/{_segment(subject)}",
            body=body,
            params={"deleted": str(deleted).lower()},
        )
        found = RegisteredSchema.from_json(data)
        with self._lock:
            self._ids[(subject, text, tuple(references))] = found.schema_id
        return found

    def schema(self, schema_id: int) -> RegisteredSchema:
        """The schema with this id (cached: an id never changes meaning)."""
        with self._lock:
            cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        data = self._request("GET", f"/schemas/ids/{schema_id}")
        found = RegisteredSchema.from_json(data, schema_id=schema_id)
        with self._lock:
            self._by_id[schema_id] = found
        return found

    def version(self, subject: str, version: int | str = "latest") -> RegisteredSchema:
        data = self._request("GET", f"/subjects/{_segment(subject)}/versions/{version}")
        return RegisteredSchema.from_json(data)

    def subjects(self) -> list[str]:
        return list(self._request("GET", "/subjects"))

    def versions(self, subject: str) -> list[int]:
        return list(self._request("GET", f"/subjects/{_segment(subject)}/versions"))

    def test_compatibility(
        self,
        subject: str,
        schema: str | dict[str, Any],
        version: int | str | None = None,
        references: Sequence[SchemaReference] = (),
    ) -> tuple[bool, list[str]]:
        """(compatible?, reasons) against one version, or all the level demands (None)."""
        _, body = self._schema_body(schema, references)
        path = f"/compatibility/subjects/{_segment(subject)}/versions"
        if version is not None:
            path += f"/{version}"
        data = self._request("POST", path, body=body, params={"verbose": "true"})
        return bool(data["is_compatible"]), [str(m) for m in data.get("messages") or ()]

    # --- config and deletes -------------------------------------------------------------------

    def compatibility(self, subject: str | None = None) -> str:
        """The subject's level (falling back to the global one), or the global level."""
        if subject is None:
            return str(self._request("GET", "/config")["compatibilityLevel"])
        data = self._request(
            "GET", f"/config/{_segment(subject)}", params={"defaultToGlobal": "true"}
        )
        return str(data["compatibilityLevel"])

    def set_compatibility(self, level: str, subject: str | None = None) -> str:
        path = "/config" if subject is None else f"/config/{_segment(subject)}"
        return str(self._request("PUT", path, body={"compatibility": level})["compatibility"])

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        params = {"permanent": "true"} if permanent else None
        return list(self._request("DELETE", f"/subjects/{_segment(subject)}", params=params))

    def delete_version(self, subject: str, version: int | str, *, permanent: bool = False) -> int:
        params = {"permanent": "true"} if permanent else None
        path = f"/subjects/{_segment(subject)}/versions/{version}"
        return int(self._request("DELETE", path, params=params))

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _details(message: str) -> list[str]:
    """The per-incompatibility lines of a 409 message (``details: [a; b]``)."""
    _, sep, rest = message.partition("details: [")
    if not sep:
        return [message]
    return [part.strip() for part in rest.rstrip("]").split("; ") if part.strip()]


def client_for(settings: HubSettings, url: str | None = None) -> RegistryClient:
    """A client for ``url``, or for HUB_SCHEMA_REGISTRY_URL (with its basic auth)."""
    target = url or settings.schema_registry_url
    if not target:
        raise ConfigError(
            "no schema registry: set HUB_SCHEMA_REGISTRY_URL or pass --registry-url "
            "(run one with `rmt-hub registry`)"
        )
    password = settings.schema_registry_password
    return RegistryClient(
        target,
        username=settings.schema_registry_username,
        password=password.get_secret_value() if password else None,
    )
