"""Avro schema text as the registry sees it: canonical text, references, parsing.

A schema is kept as the compact JSON of what was registered (whitespace does not make
a new schema; documentation and extra properties do, as in Confluent's registry).
Named types defined elsewhere come in as Confluent schema *references*
(``{"name", "subject", "version"}``); the texts of the referenced schemas are parsed
first into one shared name table, so the schema resolves them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import avro.errors
import avro.name
import avro.schema

from hub.registry.errors import InvalidSchemaError

__all__ = [
    "AVRO",
    "SchemaReference",
    "canonical_text",
    "fullname_of",
    "parse_avro",
]

AVRO = "AVRO"
"""The only schema type this registry accepts (``schemaType``)."""

_PARSE_ERRORS = (
    avro.errors.AvroException,
    json.JSONDecodeError,
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
)


@dataclass(frozen=True, order=True)
class SchemaReference:
    """A named type the schema uses, registered under ``subject`` at ``version``."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "version": self.version}

    @classmethod
    def from_json(cls, data: Any) -> SchemaReference:
        if not isinstance(data, dict):
            raise InvalidSchemaError(f"a schema reference must be an object, not {data!r}")
        try:
            return cls(str(data["name"]), str(data["subject"]), int(data["version"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSchemaError(
                f"a schema reference needs name, subject and version: {data!r}"
            ) from exc


def canonical_text(schema: str | dict[str, Any] | list[Any]) -> str:
    """The compact JSON form of a schema; raises InvalidSchemaError if it is not JSON."""
    if isinstance(schema, str):
        try:
            data = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise InvalidSchemaError(
                f"Invalid schema: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
    else:
        data = schema
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def parse_avro(text: str, references: Sequence[str] = ()) -> avro.schema.Schema:
    """Parse ``text`` with the Apache avro package, the referenced schemas' texts first.

    ``references`` are the texts of every referenced schema (transitively), dependencies
    before dependants. Raises InvalidSchemaError with Avro's message.
    """
    names = avro.name.Names(validate_names=True)
    for ref_text in references:
        try:
            avro.schema.make_avsc_object(json.loads(ref_text), names)
        except _PARSE_ERRORS as exc:
            raise InvalidSchemaError(f"Invalid schema: a referenced schema: {exc}") from exc
    try:
        return avro.schema.make_avsc_object(json.loads(text), names)
    except _PARSE_ERRORS as exc:
        raise InvalidSchemaError(f"Invalid schema: {exc}") from exc


def fullname_of(parsed: avro.schema.Schema) -> str | None:
    """The fullname of a named top-level schema, else None."""
    if isinstance(parsed, avro.schema.NamedSchema):
        return str(parsed.fullname)
    return None
