"""An AsyncAPI 3.0 document of the hub, generated from ``topics/`` and ``schemas/``.

One channel per catalogue topic (with its Kafka binding: partitions, replicas, cleanup
policy, retention), one message per canonical record (its Avro schema made
self-contained, the CloudEvents headers, the Confluent wire format in the Kafka
binding), and the hub's own operations: it *receives* what it reads and *sends* what
it writes. Who else may read or write a topic is in ``x-rmt-writers``/``x-rmt-readers``.
"""

from __future__ import annotations

import json
from typing import Any

from hub import __version__
from hub.config import HubSettings
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

_CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 Kafka protocol binding, binary content mode.",
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "The event id (stable, for de-duplication)."},
        "ce_source": {"type": "string", "description": "The publishing partner."},
        "ce_type": {"type": "string", "description": "The record type (Avro full name)."},
        "ce_time": {"type": "string", "format": "date-time"},
        "content-type": {"type": "string", "const": "application/avro"},
    },
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type"],
}


def _short(fullname: str) -> str:
    return fullname.rsplit(".", 1)[-1]


def _message(fullname: str, schemas: SchemaSet) -> dict[str, Any]:
    raw = schemas.raw(fullname)
    categories = schemas.field_categories(fullname)
    return {
        "name": _short(fullname),
        "title": _short(fullname),
        "summary": str(raw.get("doc", "")),
        "contentType": "application/avro",
        "headers": _CLOUDEVENTS_HEADERS,
        "payload": {
            "schemaFormat": AVRO_FORMAT,
            "schema": self_contained_schema(fullname, schemas.raw),
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The client pseudonym, or the record's id",
                },
                "schemaIdLocation": "payload",
                "schemaIdPayloadEncoding": "confluent",
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-rmt-data-categories": {name: category.value for name, category in categories.items()},
    }


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


def _channel(topic: TopicSpec) -> dict[str, Any]:
    messages = (
        {
            _short(name): {"$ref": f"#/components/messages/{_short(name)}"}
            for name in topic.value_schemas
        }
        if topic.value_format is ValueFormat.AVRO
        else {
            JSON_MESSAGES[name]["name"]: {
                "$ref": f"#/components/messages/{JSON_MESSAGES[name]['name']}"
            }
            for name in topic.value_schemas
        }
    )
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


def _operations(topic: TopicSpec, channel_id: str) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    channel_messages = [
        {"$ref": f"#/channels/{channel_id}/messages/{key}"} for key in _channel(topic)["messages"]
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
    used: set[str] = set()
    for topic in catalogue:
        channel_id = topic.name
        channels[channel_id] = _channel(topic)
        operations |= _operations(topic, channel_id)
        if topic.value_format is ValueFormat.AVRO:
            used.update(topic.value_schemas)
    messages = {_short(name): _message(name, schemas) for name in sorted(used)}
    for message in JSON_MESSAGES.values():
        messages[message["name"]] = message
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "rmt-hub",
            "version": __version__,
            "description": "Topics of the data-exchange hub of the Dutch regional mobility "
            "teams. Every person record is keyed by the client pseudonym; every field's data "
            "category (x-rmt-data-categories) is what consent is given for.",
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
        "components": {"messages": messages},
    }


def render_asyncapi(document: dict[str, Any]) -> str:
    """The document as stable, diff-friendly JSON."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
