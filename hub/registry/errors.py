"""Errors of the schema registry, one class per Confluent error code.

The embedded registry raises these in its core; :mod:`hub.registry.api` turns them into
Confluent's error JSON (``{"error_code": 40401, "message": ...}``) in one exception
handler, and :class:`hub.registry.client.RegistryClient` turns such JSON from any
Confluent-compatible registry back into the same classes (:func:`error_for`). So code
that talks to a registry handles one tree, whichever registry answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from hub.errors import SchemaError

__all__ = [
    "IncompatibleSchemaError",
    "InvalidCompatibilityLevelError",
    "InvalidSchemaError",
    "InvalidVersionError",
    "OperationNotPermittedError",
    "ReferenceExistsError",
    "RegistryError",
    "RegistryUnavailableError",
    "SchemaNotFoundError",
    "StoreError",
    "StoreTimeoutError",
    "SubjectConfigNotFoundError",
    "SubjectNotFoundError",
    "SubjectNotSoftDeletedError",
    "SubjectSoftDeletedError",
    "VersionNotFoundError",
    "VersionNotSoftDeletedError",
    "VersionSoftDeletedError",
    "error_for",
    "http_status",
]


class RegistryError(SchemaError):
    """A schema registry refused or failed a request; ``error_code`` is Confluent's."""

    error_code: ClassVar[int] = 50001

    def __init__(self, message: str, *, error_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code  # type: ignore[misc]


class SubjectNotFoundError(RegistryError):
    error_code = 40401


class VersionNotFoundError(RegistryError):
    error_code = 40402


class SchemaNotFoundError(RegistryError):
    error_code = 40403


class SubjectSoftDeletedError(RegistryError):
    error_code = 40404


class SubjectNotSoftDeletedError(RegistryError):
    error_code = 40405


class VersionSoftDeletedError(RegistryError):
    error_code = 40406


class VersionNotSoftDeletedError(RegistryError):
    error_code = 40407


class SubjectConfigNotFoundError(RegistryError):
    error_code = 40408


class IncompatibleSchemaError(RegistryError):
    """HTTP 409: the schema breaks the subject's compatibility rule.

    ``details`` holds one line per incompatibility, each naming the field and the rule.
    """

    error_code = 409

    def __init__(
        self, message: str, details: Sequence[str] = (), *, error_code: int | None = None
    ) -> None:
        super().__init__(message, error_code=error_code)
        self.details = tuple(details)


class InvalidSchemaError(RegistryError):
    error_code = 42201


class InvalidVersionError(RegistryError):
    error_code = 42202


class InvalidCompatibilityLevelError(RegistryError):
    error_code = 42203


class OperationNotPermittedError(RegistryError):
    error_code = 42205


class ReferenceExistsError(RegistryError):
    error_code = 42206


class StoreError(RegistryError):
    """The registry's backing store (the ``_schemas`` topic) failed."""

    error_code = 50001


class StoreTimeoutError(RegistryError):
    """A write to the store was not read back in time."""

    error_code = 50002


class RegistryUnavailableError(RegistryError):
    """No answer, or no Confluent-style answer, from the registry at a URL (client side)."""

    error_code = -1


_BY_CODE: dict[int, type[RegistryError]] = {
    cls.error_code: cls
    for cls in (
        SubjectNotFoundError,
        VersionNotFoundError,
        SchemaNotFoundError,
        SubjectSoftDeletedError,
        SubjectNotSoftDeletedError,
        VersionSoftDeletedError,
        VersionNotSoftDeletedError,
        SubjectConfigNotFoundError,
        IncompatibleSchemaError,
        InvalidSchemaError,
        InvalidVersionError,
        InvalidCompatibilityLevelError,
        OperationNotPermittedError,
        ReferenceExistsError,
        StoreError,
        StoreTimeoutError,
    )
}


def error_for(error_code: int, message: str) -> RegistryError:
    """The exception for a Confluent error code (a plain RegistryError for unknown codes)."""
    cls = _BY_CODE.get(error_code, RegistryError)
    return cls(message, error_code=error_code)


def http_status(error_code: int) -> int:
    """Confluent's rule: 5-digit codes carry the HTTP status in their first 3 digits."""
    if error_code >= 10_000:
        return error_code // 100
    if 400 <= error_code < 600:
        return error_code
    return 500
