"""An AsyncAPI 3.0 document of the hub, generated from ``topics/`` and ``schemas/``.

One channel per catalogue topic (with its Kafka binding: partitions, replicas, cleanup
policy, retention); one message per record type *and* security profile of the topic
(:class:`hub.docs.headers.Profile`): on an outbox or inbox the payload is the encrypted
envelope (``application/octet-stream``; the Avro record it holds in ``x-rmt-plaintext``),
elsewhere the Confluent-framed Avro itself; every header with its meaning, from
:mod:`hub.docs.headers` (which also writes the header tables of
docs/partner-protocol.md). The canonical schemas, made self-contained, are in
``components.schemas``. The hub's own operations: it *receives* what it reads and
*sends* what it writes. Who else may read or write a topic is in
``x-rmt-writers``/``x-rmt-readers``.
"""

from __future__ import annotations

import json
from typing import Any

from hub import __version__
from hub.config import HubSettings
from hub.docs.headers import Profile, headers_schema
from hub.security.envelope import ENVELOPE_ALGORITHM
from hub.serde.avro import self_contained_schema
from schemas.loader import SchemaSet
from topics.catalogue import (
    INCARNATION_MARKER,
    MONITOR_REPORT,
    SERVICE_PRINCIPALS,
    TopicCatalogue,
    TopicSpec,
    ValueFormat,
)

__all__ = ["ASYNCAPI_VERSION", "build_asyncapi", "render_asyncapi"]

ASYNCAPI_VERSION = "3.0.0"
AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
KAFKA_BINDING_VERSION = "0.5.0"

_ENVELOPE = (
    f"The value encrypted ({ENVELOPE_ALGORITHM}): nonce (12 bytes) | AES-256-GCM(data key, "
    "nonce, plaintext, aad), the 16-byte tag last; the data key is wrapped in rmt-enc-dek "
    "for the recipient key rmt-enc-key (docs/partner-protocol.md, section 5). The plaintext "
    "is the Confluent-framed Avro record of x-rmt-plaintext."
)
_RECIPIENT = {
    Profile.OUTBOX: "encrypted to the hub, signed by the partner that owns the outbox",
    Profile.INBOX: "encrypted to the inbox's partner, signed by the hub",
    Profile.REPARTITION: "an outbox record as published (encrypted to the hub, partner-signed), "
    "moved to its key's partition",
    Profile.INTERNAL: "encrypted to the operations key, signed by the hub",
    Profile.PARTNER_SIGNED: "reported by a partner: signed, in the clear",
    Profile.CONSENT: "signed by the consent service, chained per subject, in the clear",
    Profile.AUDIT: "signed by the hub, hash-chained per partition, in the clear",
    Profile.SIGNED: "signed by the hub, in the clear",
    Profile.SELFCHECK: "the operators' round trip: neither signed nor encrypted",
}


def _short(fullname: str) -> str:
    return fullname.rsplit(".", 1)[-1]


def _message_id(fullname: str, profile: Profile) -> str:
    return f"{_short(fullname)}.{profile.value}"


def _key() -> dict[str, Any]:
    return {"type": "string", "description": "The client pseudonym, or the record's id"}


def _message(fullname: str, profile: Profile, schemas: SchemaSet) -> dict[str, Any]:
    raw = schemas.raw(fullname)
    categories = schemas.field_categories(fullname)
    short = _short(fullname)
    schema_ref = {"$ref": f"#/components/schemas/{short}"}
    kafka: dict[str, Any] = {"key": _key(), "bindingVersion": KAFKA_BINDING_VERSION}
    message: dict[str, Any] = {
        "name": _message_id(fullname, profile),
        "title": f"{short}: {_RECIPIENT[profile]}",
        "summary": str(raw.get("doc", "")),
        "headers": {"$ref": f"#/components/schemas/headers.{profile.value}"},
    }
    if profile.encrypted:
        message |= {
            "contentType": "application/octet-stream",
            "payload": {"type": "string", "format": "binary", "description": _ENVELOPE},
            "x-rmt-plaintext": schema_ref,
        }
    else:
        message |= {"contentType": "application/avro", "payload": schema_ref}
        kafka |= {"schemaIdLocation": "payload", "schemaIdPayloadEncoding": "confluent"}
    return message | {
        "bindings": {"kafka": kafka},
        "x-rmt-data-categories": {name: category.value for name, category in categories.items()},
    }


TOMBSTONE: dict[str, Any] = {
    "name": "Tombstone",
    "title": "Tombstone: erase everything about the subject (signed by the hub, no value)",
    "summary": "A null value keyed by the client pseudonym: a consent ended and no other "
    "covers the recipient; it also compacts the subject's earlier records away.",
    "headers": {"$ref": f"#/components/schemas/headers.{Profile.TOMBSTONE.value}"},
    "payload": {"type": "null"},
    "bindings": {"kafka": {"key": _key(), "bindingVersion": KAFKA_BINDING_VERSION}},
}


def _profiles(topic: TopicSpec, catalogue: TopicCatalogue) -> tuple[Profile, ...]:
    """The security profiles of the records of an Avro topic (record security on)."""
    if topic in catalogue.outboxes():
        return (Profile.OUTBOX,)
    if topic in catalogue.inboxes():
        return (Profile.INBOX,)
    by_topic = {
        catalogue.repartition.name: (Profile.REPARTITION,),
        catalogue.routing_state.name: (Profile.INTERNAL,),
        catalogue.dead_letter.name: (Profile.INTERNAL, Profile.PARTNER_SIGNED),
        catalogue.consent_changes.name: (Profile.CONSENT,),
        catalogue.disclosures.name: (Profile.AUDIT,),
        catalogue.selfcheck.name: (Profile.SELFCHECK,),
    }
    return by_topic.get(topic.name, (Profile.SIGNED,))


JSON_MESSAGES: dict[str, dict[str, Any]] = {
    "confluent-schema-registry-record": {
        "name": "RegistryRecord",
        "summary": "A schema registry entry in Confluent's JSON layout.",
        "contentType": "application/json",
        "payload": {"type": "object"},
    },
    INCARNATION_MARKER: {
        "name": "IncarnationMarker",
        "summary": "The hub's stamp of one life of the cluster's data (hub.continuity).",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["type", "incarnation", "stamped_at"],
            "properties": {
                "type": {"const": INCARNATION_MARKER},
                "incarnation": {"type": "string", "format": "uuid"},
                "stamped_at": {"type": "string", "format": "date-time"},
                "bootstrap_servers": {"type": "string"},
            },
        },
    },
    MONITOR_REPORT: {
        "name": "MonitorReport",
        "summary": "The national monitor's report of one period (and region), small cells "
        "suppressed: hub.monitor.report.render_json.",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["report", "period", "region", "suppression", "tables"],
            "properties": {
                "report": {"type": "string"},
                "period": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}/[0-9]{2}$"},
                "region": {"type": ["string", "null"]},
                "suppression": {"type": "object"},
                "budget_allocations_source": {"type": "string"},
                "tables": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}
"""Topics with JSON values (not Avro): their message, by the catalogue's schema name."""


def _channel(topic: TopicSpec, catalogue: TopicCatalogue) -> dict[str, Any]:
    messages: dict[str, Any]
    if topic.value_format is ValueFormat.AVRO:
        ids = [_message_id(n, p) for p in _profiles(topic, catalogue) for n in topic.value_schemas]
        if topic in catalogue.inboxes():
            ids.append(TOMBSTONE["name"])
        messages = {i: {"$ref": f"#/components/messages/{i}"} for i in ids}
    else:
        messages = {
            JSON_MESSAGES[name]["name"]: {
                "$ref": f"#/components/messages/{JSON_MESSAGES[name]['name']}"
            }
            for name in topic.value_schemas
        }
    config: dict[str, Any] = {
        "cleanup.policy": topic.cleanup_policy.value.split(","),
        "retention.ms": topic.retention_ms,
    }
    return {
        "address": topic.name,
        "title": topic.name,
        "description": topic.description,
        "messages": messages,
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "replicas": topic.replication_factor,
                "topicConfiguration": config,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-rmt-key": topic.key.value,
        "x-rmt-owner": topic.owner,
        "x-rmt-writers": list(topic.writers),
        "x-rmt-readers": list(topic.readers),
    }


def _operations(topic: TopicSpec, catalogue: TopicCatalogue, channel_id: str) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    channel_messages = [
        {"$ref": f"#/channels/{channel_id}/messages/{key}"}
        for key in _channel(topic, catalogue)["messages"]
    ]
    for action, principals in (("receive", topic.readers), ("send", topic.writers)):
        if set(principals) & set(SERVICE_PRINCIPALS):
            operations[f"{action}-{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"The hub {action}s on {topic.name}.",
                "messages": channel_messages,
            }
    return operations


def build_asyncapi(
    settings: HubSettings, catalogue: TopicCatalogue, schemas: SchemaSet
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a JSON-ready dict (deterministic for the same input)."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    used: set[tuple[str, Profile]] = set()
    for topic in catalogue:
        channel_id = topic.name
        channels[channel_id] = _channel(topic, catalogue)
        operations |= _operations(topic, catalogue, channel_id)
        if topic.value_format is ValueFormat.AVRO:
            profiles = _profiles(topic, catalogue)
            used.update((name, p) for name in topic.value_schemas for p in profiles)
    messages = {
        _message_id(name, p): _message(name, p, schemas)
        for name, p in sorted(used, key=lambda u: (_short(u[0]), u[1].value))
    }
    messages[TOMBSTONE["name"]] = TOMBSTONE
    for message in JSON_MESSAGES.values():
        messages[message["name"]] = message
    avro = {
        _short(name): {
            "schemaFormat": AVRO_FORMAT,
            "schema": self_contained_schema(name, schemas.raw),
        }
        for name in sorted({name for name, _ in used}, key=_short)
    }
    avro |= {f"headers.{p.value}": headers_schema(p) for p in Profile}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "rmt-hub",
            "version": __version__,
            "description": "Topics of the data-exchange hub of the Dutch regional mobility "
            "teams. Every person record is keyed by the client pseudonym; every field's data "
            "category (x-rmt-data-categories) is what consent is given for. Values and "
            "headers as they are with record security on (the default): outbox and inbox "
            "values are encrypted envelopes, every record but the self-check's is signed "
            "(docs/partner-protocol.md); with HUB_SECURITY_ENABLED=false the values are the "
            "Avro records themselves and the rmt-sig*/rmt-enc* headers are absent.",
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/avro",
        "servers": {
            "embedded": {
                "host": f"{settings.embedded_host}:{{port}}",
                "protocol": "kafka",
                "description": "The embedded broker of `rmt-hub up` (memory-only).",
                "variables": {"port": {"description": "printed by `rmt-hub up`"}},
            },
            "production": {
                "host": "kafka-1:9092",
                "protocol": "kafka-secure",
                "description": "Apache Kafka of docker-compose.yml (SASL/SCRAM or mTLS).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": avro, "messages": messages},
    }


def render_asyncapi(document: dict[str, Any]) -> str:
    """The document as stable, diff-friendly JSON."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
