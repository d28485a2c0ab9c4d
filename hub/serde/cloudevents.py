"""CloudEvents headers on Kafka records (Kafka protocol binding, binary content mode).

Every record the hub or the SDK writes carries its event metadata as headers, so any
CloudEvents tooling reads them without knowing the hub::

    ce_specversion  1.0
    ce_id           the event id (the record's ``event_id``)
    ce_source       the publishing partner's id
    ce_type         the record type, e.g. ``nl.rmt.hub.Referral``
    ce_time         when it happened, RFC 3339 in UTC, e.g. ``2026-11-05T09:30:00.125Z``
    content-type    ``application/avro`` (the value: Avro in the Confluent wire format)

plus ``ce_dataschema``/``ce_subject`` when given. Header values are UTF-8, as the
binding prescribes. The value itself is the event data, untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub.serde.context import Headers
from hub.serde.errors import CloudEventError

__all__ = [
    "AVRO_CONTENT_TYPE",
    "CE_PREFIX",
    "CONTENT_TYPE_HEADER",
    "SPEC_VERSION",
    "CloudEvent",
    "ce_headers",
    "format_time",
    "parse_time",
]

SPEC_VERSION = "1.0"
CE_PREFIX = "ce_"
CONTENT_TYPE_HEADER = "content-type"
AVRO_CONTENT_TYPE = "application/avro"
"""Content type of the hub's record values (Avro binary, Confluent-framed)."""

_REQUIRED = ("specversion", "id", "source", "type")
_OPTIONAL = ("time", "subject", "dataschema")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CloudEventError("time must be timezone-aware", "time")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp (``Z`` or an offset) as an aware datetime."""
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise CloudEventError(f"time {text!r} is not RFC 3339", "time") from exc
    if moment.tzinfo is None:
        raise CloudEventError(f"time {text!r} has no time zone", "time")
    return moment


@dataclass(frozen=True)
class CloudEvent:
    """The CloudEvents context attributes of one record."""

    id: str
    source: str
    type: str
    time: datetime | None = None
    datacontenttype: str | None = AVRO_CONTENT_TYPE
    subject: str | None = None
    dataschema: str | None = None
    specversion: str = SPEC_VERSION
    extensions: Mapping[str, str] = field(default_factory=dict)

    def to_headers(self) -> list[tuple[str, bytes]]:
        """The record headers for these attributes (binary content mode)."""
        for name in ("id", "source", "type"):
            if not getattr(self, name):
                raise CloudEventError(f"the CloudEvents attribute '{name}' is empty", name)
        pairs: list[tuple[str, str]] = [
            ("ce_specversion", self.specversion),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
        ]
        if self.time is not None:
            pairs.append(("ce_time", format_time(self.time)))
        if self.subject is not None:
            pairs.append(("ce_subject", self.subject))
        if self.dataschema is not None:
            pairs.append(("ce_dataschema", self.dataschema))
        pairs += [(f"{CE_PREFIX}{k}", v) for k, v in sorted(self.extensions.items())]
        if self.datacontenttype is not None:
            pairs.append((CONTENT_TYPE_HEADER, self.datacontenttype))
        return [(name, value.encode("utf-8")) for name, value in pairs]

    @classmethod
    def from_headers(cls, headers: Headers | None) -> CloudEvent:
        """The attributes in ``headers``; CloudEventError names what is missing or bad."""
        attributes: dict[str, str] = {}
        content_type: str | None = None
        for name, raw in headers or ():
            lowered = name.lower()
            if not (lowered.startswith(CE_PREFIX) or lowered == CONTENT_TYPE_HEADER):
                continue
            try:
                value = bytes(raw).decode("utf-8")
            except (UnicodeDecodeError, TypeError) as exc:
                raise CloudEventError(f"header {name!r} is not UTF-8", name) from exc
            if lowered == CONTENT_TYPE_HEADER:
                content_type = value
            else:
                attributes[lowered[len(CE_PREFIX) :]] = value
        for name in _REQUIRED:
            if not attributes.get(name):
                raise CloudEventError(
                    f"the required header ce_{name} is missing (not a CloudEvents record?)",
                    name,
                )
        if attributes["specversion"] != SPEC_VERSION:
            raise CloudEventError(
                f"ce_specversion {attributes['specversion']!r} is not {SPEC_VERSION}",
                "specversion",
            )
        time = attributes.get("time")
        extensions = {
            k: v for k, v in attributes.items() if k not in _REQUIRED and k not in _OPTIONAL
        }
        return cls(
            id=attributes["id"],
            source=attributes["source"],
            type=attributes["type"],
            time=parse_time(time) if time is not None else None,
            datacontenttype=content_type,
            subject=attributes.get("subject"),
            dataschema=attributes.get("dataschema"),
            extensions=extensions,
        )


def ce_headers(
    *,
    event_id: str,
    source: str,
    record_type: str,
    time: datetime,
    content_type: str = AVRO_CONTENT_TYPE,
    dataschema: str | None = None,
) -> list[tuple[str, bytes]]:
    """The headers every hub record carries: event id, publishing partner, type, time."""
    return CloudEvent(
        id=event_id,
        source=source,
        type=record_type,
        time=time,
        datacontenttype=content_type,
        dataschema=dataschema,
    ).to_headers()
