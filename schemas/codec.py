"""Models <-> Avro: plain dicts, and Avro binary without framing.

``encode`` writes the bare Avro binary body of one record (fastavro
``schemaless_writer``); the wire framing (Confluent magic byte and schema id) is added
by the Kafka layer. Every error from fastavro or pydantic leaves this module as a
:class:`~hub.errors.RecordError` naming the record type and, where it can be told, the
field.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError as AvroValidationError
from fastavro.validation import validate
from pydantic import ValidationError

from hub.errors import RecordError
from schemas.loader import fullname_of, load_schemas
from schemas.models import RECORD_MODELS, CanonicalRecord

__all__ = ["MODELS", "decode", "decode_as", "encode", "from_avro", "model_for", "to_avro"]

R = TypeVar("R", bound=CanonicalRecord)

MODELS: dict[str, type[CanonicalRecord]] = {model.avro_name: model for model in RECORD_MODELS}
"""Fullname -> model, for every record type (message and helper)."""

_ENCODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)
"""fastavro on a datum that does not fit (UnicodeEncodeError is a ValueError)."""
# Random or hostile bytes make fastavro fail in many ways (short input, bad union or enum
# index, invalid UTF-8, dates out of range, ...); all of them mean "not this record".
_DECODE_ERRORS = (
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    OverflowError,
    StopIteration,
)


def model_for(fullname: str) -> type[CanonicalRecord]:
    """The model of a record type (short names are accepted)."""
    try:
        return MODELS[fullname_of(fullname)]
    except KeyError:
        raise RecordError(fullname, "no canonical model for this record type") from None


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def to_avro(model: CanonicalRecord) -> dict[str, Any]:
    """The record as the dict fastavro writes: enums as symbols, nested records as dicts."""
    plain: dict[str, Any] = _plain(model.model_dump(warnings=False))
    return plain


def _validation_error(fullname: str, exc: ValidationError) -> RecordError:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return RecordError(fullname, f"{first['msg']}{more}", field=where)


def from_avro(fullname: str, data: Mapping[str, Any]) -> CanonicalRecord:
    """The model of ``fullname`` from a dict as fastavro reads it."""
    model = model_for(fullname)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(model.avro_name, exc) from exc


def _avro_field(fullname: str, datum: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """The field fastavro's validator blames, as a path inside the record."""
    try:
        validate(datum, schema, raise_errors=True)
    except AvroValidationError as exc:
        for error in exc.errors:
            path = str(getattr(error, "field", "") or "")
            if path:
                return path.removeprefix(f"{fullname}.")
    return None


def encode(model: CanonicalRecord) -> bytes:
    """Avro binary of ``model`` (no framing)."""
    fullname = model.avro_name
    schema = load_schemas().parsed(fullname)
    datum = to_avro(model)
    buffer = io.BytesIO()
    try:
        schemaless_writer(buffer, schema, datum)
    except _ENCODE_ERRORS as exc:
        field = _avro_field(fullname, datum, schema)
        raise RecordError(fullname, f"cannot encode: {exc}", field=field) from exc
    return buffer.getvalue()


def decode(fullname: str, data: bytes) -> CanonicalRecord:
    """The model of ``fullname`` from its Avro binary (no framing); all bytes must be used."""
    model = model_for(fullname)
    schema = load_schemas().parsed(model.avro_name)
    buffer = io.BytesIO(data)
    try:
        datum = schemaless_reader(buffer, schema, None)
    except _DECODE_ERRORS as exc:
        detail = str(exc) or type(exc).__name__
        raise RecordError(model.avro_name, f"cannot decode Avro binary: {detail}") from exc
    if buffer.tell() != len(data):
        raise RecordError(
            model.avro_name,
            f"{len(data) - buffer.tell()} trailing bytes after the record",
        )
    if not isinstance(datum, dict):
        raise RecordError(model.avro_name, "Avro binary did not hold a record")
    return from_avro(model.avro_name, datum)


def decode_as(model: type[R], data: bytes) -> R:
    """Like :func:`decode`, typed by the model class."""
    record = decode(model.avro_name, data)
    if not isinstance(record, model):  # pragma: no cover - MODELS maps each name to its model
        raise RecordError(model.avro_name, f"decoded a {type(record).__name__}")
    return record
