"""How an inbox record looks outside Kafka: CloudEvents JSON, and flat CSV rows.

* JSON Lines and webhooks carry CloudEvents: a JSONL line is a structured-mode event
  (``specversion``, ``id``, ``source``, ``type``, ``time``, ``subject``,
  ``datacontenttype``, ``data``); a webhook POST is binary mode (``ce-*`` headers, the
  record as the JSON body). ``data`` is the canonical record as JSON: dates ISO
  ``jjjj-mm-dd``, timestamps RFC 3339 UTC, enums as their symbols, withheld fields null.
* CSV has one file per record type; columns are the record's fields, nested records
  flattened with dots (``contact.city``), lists as JSON text, null as an empty cell. A
  text cell that a spreadsheet would run as a formula (starting with = + - @ TAB CR) is
  prefixed with a single quote (:func:`hub.spreadsheet.safe_cell`, OWASP).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any, get_origin

from pydantic import BaseModel

from hub.sdk import InboxMessage
from hub.serde.cloudevents import format_time
from hub.spreadsheet import safe_cell
from schemas.models import CanonicalRecord

__all__ = [
    "cloud_event",
    "csv_columns",
    "csv_row",
    "record_data",
    "short_type",
    "webhook_body",
    "webhook_headers",
]


def short_type(record_type: str) -> str:
    """``nl.rmt.hub.ClientProfile`` -> ``ClientProfile``."""
    return record_type.rsplit(".", 1)[-1]


def record_data(record: CanonicalRecord) -> dict[str, Any]:
    """The record as JSON-ready data."""
    data: dict[str, Any] = record.model_dump(mode="json")
    return data


def _attributes(message: InboxMessage) -> dict[str, str]:
    record = message.record
    assert record is not None
    event = message.event
    occurred = getattr(record, "occurred_at", None)
    time = event.time if event and event.time else occurred
    attributes = {
        "specversion": "1.0",
        "id": message.event_id or f"{message.topic}/{message.partition}/{message.offset}",
        "source": event.source if event else str(getattr(record, "source_partner", "rmt-hub")),
        "type": event.type if event else record.avro_name,
        "time": format_time(time if isinstance(time, datetime) else datetime.now(UTC)),
    }
    if message.key is not None:
        attributes["subject"] = message.subject
    return attributes


def cloud_event(message: InboxMessage) -> dict[str, Any]:
    """A structured-mode CloudEvent (one JSONL line)."""
    assert message.record is not None
    return {
        **_attributes(message),
        "datacontenttype": "application/json",
        "data": record_data(message.record),
    }


def webhook_headers(message: InboxMessage) -> dict[str, str]:
    """Binary-mode CloudEvents HTTP headers (``ce-id`` lets the receiver de-duplicate)."""
    headers = {f"ce-{name}": value for name, value in _attributes(message).items()}
    headers["content-type"] = "application/json"
    return headers


def webhook_body(message: InboxMessage) -> bytes:
    assert message.record is not None
    return json.dumps(record_data(message.record), ensure_ascii=False).encode("utf-8")


def _columns(model: type[BaseModel], prefix: str) -> list[str]:
    columns: list[str] = []
    for name, info in model.model_fields.items():
        nested = _nested_model(info.annotation)
        if nested is not None:
            columns += _columns(nested, f"{prefix}{name}.")
        else:
            columns.append(f"{prefix}{name}")
    return columns


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model class of ``Contact | None`` or ``Contact``; None for anything else."""
    if get_origin(annotation) in (list, tuple, dict, set, frozenset):
        return None
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


@cache
def csv_columns(model: type[CanonicalRecord]) -> tuple[str, ...]:
    """The CSV header of a record type."""
    return tuple(_columns(model, ""))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str):
        return str(safe_cell(value))
    return str(value)


def _flatten(data: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for name, value in data.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{name}.", out)
        else:
            out[f"{prefix}{name}"] = _cell(value)


def csv_row(record: CanonicalRecord) -> list[str]:
    """The record's cells, in :func:`csv_columns` order."""
    flat: dict[str, str] = {}
    _flatten(record_data(record), "", flat)
    return [flat.get(column, "") for column in csv_columns(type(record))]
