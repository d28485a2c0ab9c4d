"""Avro serializer and deserializer callables for the Confluent wire format, over fastavro.

They follow Confluent's serde contract, so the same records go both ways between the hub
and partners' Confluent clients (Java, .NET, Python):

* :class:`AvroSerializer` ``(value, ctx) -> bytes``: picks the subject with a naming
  strategy, registers (or looks up) the schema once per subject, then writes
  ``0x00 | id (4 bytes, big-endian) | Avro binary``.
* :class:`AvroDeserializer` ``(bytes, ctx) -> value``: reads the id, fetches and parses
  the writer schema once per id, and decodes, resolving to a reader schema when one is
  given (schema evolution: data written with an older or newer compatible schema reads
  as the reader's shape). Malformed frames raise a :class:`~hub.serde.errors.FrameError`
  subclass naming topic, partition and offset; nothing else escapes.

Subject naming: the hub uses **RecordNameStrategy** (subject = the record's fullname,
e.g. ``nl.rmt.hub.Referral``): partner outbox and inbox topics carry several record
types, and one record type travels over many topics, so compatibility is kept per
record type. :func:`topic_record_name_strategy` (``<topic>-<fullname>``) and Confluent's
default :func:`topic_name_strategy` (``<topic>-value``) are here for partners who use them.

Serializers know nothing of Kafka clients; the Kafka layer fills in the
:class:`~hub.serde.context.SerializationContext`.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError
from fastavro.schema import SchemaParseException

from hub.errors import SchemaDefinitionError
from hub.registry.client import RegistryClient
from hub.registry.errors import SchemaNotFoundError
from hub.registry.schema import SchemaReference, canonical_text
from hub.serde.context import SerializationContext
from hub.serde.errors import (
    CorruptPayloadError,
    EncodeError,
    ReaderSchemaError,
    TruncatedPayloadError,
    UnknownSchemaIdError,
)
from hub.serde.wire import HEADER_SIZE, MAGIC_BYTE, header, unframe

__all__ = [
    "AvroDeserializer",
    "AvroSerializer",
    "Decoded",
    "SubjectNameStrategy",
    "record_name_strategy",
    "self_contained_schema",
    "topic_name_strategy",
    "topic_record_name_strategy",
]

SchemaLike = str | Mapping[str, Any]
SubjectNameStrategy = Callable[[SerializationContext, str | None], str]

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_PARSE_ERRORS = (SchemaParseException, ValueError, KeyError, TypeError, AttributeError)
_WRITE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, OverflowError, IndexError)
_READ_ERRORS = (ValueError, TypeError, IndexError, KeyError, OverflowError, UnicodeDecodeError)
_ON_FIELD = re.compile(r" on field (\S+)")
_NO_DEFAULT = re.compile(r"^no value and no default for (\S+)$")
_NEGATIVE_LENGTH = re.compile(r"Expected -\d+ bytes")
_NO_MATCH = re.compile(r"^.* \(type <class '([\w.]+)'>\) do not match (.*)$", re.DOTALL)


# --- subject naming ---------------------------------------------------------------------------


def topic_name_strategy(ctx: SerializationContext, record_name: str | None) -> str:
    """Confluent's default: ``<topic>-key`` / ``<topic>-value``."""
    return f"{ctx.topic}-{ctx.field.value}"


def record_name_strategy(ctx: SerializationContext, record_name: str | None) -> str:
    """The record's fullname (the hub's choice: one subject per record type)."""
    if not record_name:
        raise EncodeError(ctx.topic, "RecordNameStrategy needs a named (record) schema")
    return record_name


def topic_record_name_strategy(ctx: SerializationContext, record_name: str | None) -> str:
    """``<topic>-<fullname>``: one subject per record type per topic."""
    return f"{ctx.topic}-{record_name_strategy(ctx, record_name)}"


# --- schemas ------------------------------------------------------------------------------------


def _fullname(schema: Mapping[str, Any], namespace: str = "") -> str:
    name = str(schema["name"])
    if "." in name:
        return name
    space = schema.get("namespace", namespace) or ""
    return f"{space}.{name}" if space else name


def self_contained_schema(
    fullname: str, lookup: Callable[[str], Mapping[str, Any]]
) -> dict[str, Any]:
    """One schema with every named type it uses defined inline, first use first.

    ``lookup`` gives the schema of a named type by fullname (e.g. ``SchemaSet.raw`` of
    :mod:`schemas.loader`, whose files refer to each other by name). Later uses of a
    type refer to it by fullname, as Avro requires. The result is what a registry and
    a partner's serializer need: a schema that parses on its own.
    """
    defined: set[str] = set()

    def named(definition: Mapping[str, Any], namespace: str) -> dict[str, Any]:
        full = _fullname(definition, namespace)
        defined.add(full)
        space = full.rpartition(".")[0]
        out = dict(definition)
        if definition.get("type") in {"record", "error"}:
            out["fields"] = [
                {**fld, "type": expand(fld["type"], space)} for fld in definition["fields"]
            ]
        return out

    def expand(type_: Any, namespace: str) -> Any:  # noqa: PLR0911 - one per kind
        if isinstance(type_, str):
            if type_ in _PRIMITIVES:
                return type_
            full = type_ if "." in type_ or not namespace else f"{namespace}.{type_}"
            if full in defined:
                return full
            return named(lookup(full), namespace)
        if isinstance(type_, list):
            return [expand(branch, namespace) for branch in type_]
        if isinstance(type_, Mapping):
            kind = type_.get("type")
            if kind in _NAMED:
                return named(type_, namespace)
            if kind == "array":
                return {**type_, "items": expand(type_["items"], namespace)}
            if kind == "map":
                return {**type_, "values": expand(type_["values"], namespace)}
            return {**type_, "type": expand(kind, namespace)}
        return type_

    return named(lookup(fullname), fullname.rpartition(".")[0])


def _loads(schema: SchemaLike) -> Any:
    if isinstance(schema, str):
        return json.loads(canonical_text(schema))
    return json.loads(canonical_text(dict(schema)))


def _parse(raw: Any, label: str, named: dict[str, Any] | None = None) -> Any:
    if isinstance(raw, dict) and raw.get("__fastavro_parsed"):
        return raw
    try:
        return parse_schema(raw, named_schemas=named if named is not None else {})
    except _PARSE_ERRORS as exc:
        raise SchemaDefinitionError(label, f"fastavro cannot parse it: {exc}") from exc


def _name_of(raw: Any) -> str | None:
    if isinstance(raw, dict) and raw.get("type") in _NAMED:
        return _fullname(raw)
    return None


# --- serializer ---------------------------------------------------------------------------------


def _encode_error(record_type: str, exc: Exception) -> EncodeError:
    """fastavro's message, with the field path and without the value (it may be personal)."""
    message = str(exc)
    path = list(reversed(_ON_FIELD.findall(message)))
    core = _ON_FIELD.sub("", message)
    missing = _NO_DEFAULT.match(core)
    if missing:
        path.append(missing.group(1))
        core = "no value and the schema gives no default"
    mismatch = _NO_MATCH.match(core)
    if mismatch:
        core = f"a {mismatch.group(1)} value matches no branch of {mismatch.group(2)}"
    return EncodeError(record_type, core or type(exc).__name__, ".".join(path) or None)


class AvroSerializer:
    """``(value, ctx) -> bytes`` in the Confluent wire format, for one schema.

    ``schema`` must parse on its own (see :func:`self_contained_schema`). With
    ``auto_register`` (default) the schema is registered under the subject on first use
    (the registry returns the existing id when it has it); without, it must be there
    already (lookup). ``to_dict`` turns the caller's objects into what fastavro writes.
    """

    def __init__(
        self,
        registry: RegistryClient,
        schema: SchemaLike,
        *,
        subject_name_strategy: SubjectNameStrategy = record_name_strategy,
        auto_register: bool = True,
        to_dict: Callable[[Any, SerializationContext], Any] | None = None,
    ) -> None:
        raw = _loads(schema)
        self.record_name = _name_of(raw)
        self.schema_text = canonical_text(raw)
        self._label = self.record_name or "schema"
        self._parsed = _parse(raw, self._label)
        self._registry = registry
        self._strategy = subject_name_strategy
        self._auto_register = auto_register
        self._to_dict = to_dict
        self._headers: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def subject(self, ctx: SerializationContext) -> str:
        return self._strategy(ctx, self.record_name)

    def schema_id(self, ctx: SerializationContext) -> int:
        """The id for the context's subject (registry round trip on first use only)."""
        return int.from_bytes(self._header(ctx)[1:], "big")

    def _header(self, ctx: SerializationContext) -> bytes:
        subject = self._strategy(ctx, self.record_name)
        cached = self._headers.get(subject)
        if cached is not None:
            return cached
        if self._auto_register:
            schema_id = self._registry.register(subject, self.schema_text)
        else:
            schema_id = self._registry.lookup(subject, self.schema_text).schema_id
        framed = header(schema_id)
        with self._lock:
            self._headers[subject] = framed
        return framed

    def __call__(self, value: Any, ctx: SerializationContext) -> bytes | None:
        if value is None:
            return None
        record = self._to_dict(value, ctx) if self._to_dict is not None else value
        buffer = io.BytesIO()
        buffer.write(self._header(ctx))
        try:
            schemaless_writer(buffer, self._parsed, record)
        except _WRITE_ERRORS as exc:
            raise _encode_error(self._label, exc) from exc
        return buffer.getvalue()


# --- deserializer ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded record: the writer's schema id and record type, and the value."""

    schema_id: int
    record_type: str | None
    value: Any


@dataclass(frozen=True, slots=True)
class _Writer:
    parsed: Any
    record_type: str | None


class AvroDeserializer:
    """``(bytes, ctx) -> value`` from the Confluent wire format.

    Without a reader schema a record decodes as its writer wrote it. With
    ``reader_schema`` every record is resolved to it; with ``reader_schemas`` (by
    fullname, e.g. ``{n: schema_set.parsed(n) for n in schema_set.messages()}``) each
    record is resolved to the reader schema of its own type, for topics that carry
    several types. ``from_dict`` turns the decoded dict into the caller's object.
    """

    def __init__(
        self,
        registry: RegistryClient,
        reader_schema: SchemaLike | None = None,
        *,
        reader_schemas: Mapping[str, SchemaLike] | None = None,
        from_dict: Callable[[Any, SerializationContext], Any] | None = None,
    ) -> None:
        self._registry = registry
        self._reader: Any = None
        if reader_schema is not None:
            raw = reader_schema if _is_parsed(reader_schema) else _loads(reader_schema)
            self._reader = _parse(raw, _name_of(raw) or "reader schema")
        self._readers: dict[str, Any] = {}
        for name, schema in (reader_schemas or {}).items():
            raw = schema if _is_parsed(schema) else _loads(schema)
            self._readers[name] = _parse(raw, name)
        self._from_dict = from_dict
        self._writers: dict[int, _Writer] = {}
        self._lock = threading.Lock()

    def _writer(self, schema_id: int, ctx: SerializationContext) -> _Writer:
        cached = self._writers.get(schema_id)
        if cached is not None:
            return cached
        try:
            found = self._registry.schema(schema_id)
            named: dict[str, Any] = {}
            for text in self._reference_texts(found.references):
                _parse(json.loads(text), f"schema id {schema_id} reference", named)
        except SchemaNotFoundError as exc:
            raise UnknownSchemaIdError(
                f"the schema registry ({self._registry.url}) has no schema with id {schema_id}",
                ctx,
                schema_id=schema_id,
            ) from exc
        raw = json.loads(found.schema)
        writer = _Writer(_parse(raw, f"schema id {schema_id}", named), _name_of(raw))
        with self._lock:
            self._writers[schema_id] = writer
        return writer

    def _reference_texts(self, references: tuple[SchemaReference, ...]) -> list[str]:
        texts: list[str] = []
        seen: set[tuple[str, int]] = set()

        def visit(ref: SchemaReference) -> None:
            if (ref.subject, ref.version) in seen:
                return
            seen.add((ref.subject, ref.version))
            found = self._registry.version(ref.subject, ref.version)
            for inner in found.references:
                visit(inner)
            texts.append(found.schema)

        for ref in references:
            visit(ref)
        return texts

    def decode(self, data: bytes, ctx: SerializationContext) -> Decoded:
        """The record with its writer's schema id and type (FrameError when it cannot)."""
        if len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
            unframe(data, ctx)  # raises the FrameError that says what is wrong
        schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
        writer = self._writer(schema_id, ctx)
        reader = self._readers.get(writer.record_type or "", self._reader)
        buffer = io.BytesIO(data)
        buffer.seek(HEADER_SIZE)
        payload_size = len(data) - HEADER_SIZE
        try:
            value = schemaless_reader(buffer, writer.parsed, reader)
        except SchemaResolutionError as exc:
            raise ReaderSchemaError(
                f"data written with {writer.record_type or 'the writer schema'} cannot be read "
                f"with the reader schema: {exc}",
                ctx,
                schema_id=schema_id,
            ) from exc
        except EOFError as exc:
            if _NEGATIVE_LENGTH.search(str(exc)):
                raise CorruptPayloadError(
                    f"the Avro payload ({payload_size} bytes) holds a negative length: {exc}",
                    ctx,
                    schema_id=schema_id,
                ) from exc
            raise TruncatedPayloadError(
                f"the Avro payload ({payload_size} bytes) ends before the record does"
                + (f": {exc}" if str(exc) else ""),
                ctx,
                schema_id=schema_id,
            ) from exc
        except _READ_ERRORS as exc:
            raise CorruptPayloadError(
                f"the Avro payload ({payload_size} bytes) does not decode with its writer "
                f"schema: {type(exc).__name__}: {exc}",
                ctx,
                schema_id=schema_id,
            ) from exc
        left = len(data) - buffer.tell()
        if left:
            raise CorruptPayloadError(
                f"{left} byte(s) left over after the record: the payload does not match its "
                "writer schema",
                ctx,
                schema_id=schema_id,
            )
        return Decoded(schema_id, writer.record_type, value)

    def __call__(self, data: bytes | None, ctx: SerializationContext) -> Any:
        if data is None:
            return None
        value = self.decode(data, ctx).value
        return self._from_dict(value, ctx) if self._from_dict is not None else value


def _is_parsed(schema: SchemaLike) -> bool:
    return isinstance(schema, Mapping) and bool(schema.get("__fastavro_parsed"))
