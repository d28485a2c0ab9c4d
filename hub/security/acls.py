"""Kafka ACLs for production, derived from the topic catalogue: one principal per service.

Each principal is ``User:<name>``: a partner id, or the principal of one hub service
(:data:`~topics.catalogue.SERVICE_PRINCIPALS`: ``router``, ``consent``, ``registry``,
``monitor``, ``operator``, ``schema-registry``), as its SASL/SCRAM user name or the CN of
an mTLS client certificate (``ssl.principal.mapping.rules``). From every
:class:`~topics.catalogue.TopicSpec`, each reader gets READ + DESCRIBE and each writer
WRITE + DESCRIBE on the topic's literal name. Besides, each principal gets what its
clients need and nothing more (:func:`render_acls`): its consumer groups, the router and
the aggregator their faust groups, the aggregator its table's changelog topics (they hold
unsuppressed figures: the monitor's analysts read the reports topic only), the registry
the creation of its store, the operator ``topics apply``, the external (Confluent) schema
registry its store and its leader election group. Nothing is granted to
``User:*``, nothing is a wildcard, and nobody needs a transactional id (the hub writes no
transactions, decision 0001; an idempotent producer needs only WRITE on its topics since
Kafka 3.0). With ``allow.everyone.if.no.acl.found=false`` anything not listed is denied;
only the brokers are super users (docs/decisions/0013-one-principal-per-service.md).
"""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

from hub.security.errors import AclError
from topics.catalogue import (
    AGGREGATOR_PRINCIPAL,
    OPERATOR_PRINCIPAL,
    REGISTRY_PRINCIPAL,
    ROUTER_PRINCIPAL,
    SCHEMA_REGISTRY_PRINCIPAL,
    SERVICE_PRINCIPALS,
    TopicCatalogue,
)

__all__ = [
    "SCHEMA_REGISTRY_GROUP",
    "AclBinding",
    "Operation",
    "PatternType",
    "ResourceType",
    "principal",
    "principals",
    "render_acls",
    "to_json",
    "to_kafka_acls_script",
    "topic_grants",
]


class ResourceType(StrEnum):
    TOPIC = "Topic"
    GROUP = "Group"
    CLUSTER = "Cluster"
    TRANSACTIONAL_ID = "TransactionalId"


class PatternType(StrEnum):
    LITERAL = "literal"
    PREFIXED = "prefixed"


class Operation(StrEnum):
    READ = "Read"
    WRITE = "Write"
    DESCRIBE = "Describe"
    CREATE = "Create"
    ALTER = "Alter"
    DESCRIBE_CONFIGS = "DescribeConfigs"
    ALTER_CONFIGS = "AlterConfigs"


@dataclass(frozen=True, order=True, slots=True)
class AclBinding:
    """One ALLOW rule."""

    principal: str
    resource_type: ResourceType
    pattern_type: PatternType
    resource_name: str
    operation: Operation
    permission: str = "Allow"
    host: str = "*"


def principal(name: str) -> str:
    return f"User:{name}"


def _grant(  # noqa: PLR0917 - reads as a table of grants
    out: set[AclBinding],
    who: str,
    resource: ResourceType,
    name: str,
    operations: Iterable[Operation],
    pattern: PatternType = PatternType.LITERAL,
) -> None:
    if not name:
        raise AclError(f"empty {resource.value} name for {who}")
    for operation in operations:
        out.add(AclBinding(principal(who), resource, pattern, name, operation))


def router_group(prefix: str) -> str:
    """The router workers' consumer group (their faust app id)."""
    return f"{prefix}-router"


def monitor_group(prefix: str) -> str:
    """The aggregator's consumer group (the monitor worker's faust app id); its table's
    changelog topics start with this name and a dash."""
    return f"{prefix}-monitor"


#: The external schema registry's group: Confluent's ``schema.registry.group.id`` default
#: (its leader election joins it; docker-compose.yml keeps the default).
SCHEMA_REGISTRY_GROUP = "schema-registry"


def _grant_schema_registry(out: set[AclBinding], store: str) -> None:
    """What Confluent Schema Registry's Kafka store needs (its ``KafkaStore``): list and
    describe its topic, create it with ``cleanup.policy=compact`` if missing, check that
    policy when present (DescribeConfigs), write and read it back (by assignment, no
    committed offsets); and READ on its group, which its leader election joins. Nothing
    on the cluster: WRITE on the topic covers its idempotent producer (Kafka >= 3.0)."""
    _grant(
        out,
        SCHEMA_REGISTRY_PRINCIPAL,
        ResourceType.TOPIC,
        store,
        (
            Operation.CREATE,
            Operation.DESCRIBE,
            Operation.DESCRIBE_CONFIGS,
            Operation.READ,
            Operation.WRITE,
        ),
    )
    _grant(
        out, SCHEMA_REGISTRY_PRINCIPAL, ResourceType.GROUP, SCHEMA_REGISTRY_GROUP, (Operation.READ,)
    )


def render_acls(catalogue: TopicCatalogue) -> list[AclBinding]:
    """Every ALLOW rule the catalogue implies, sorted."""
    out: set[AclBinding] = set()
    prefix = catalogue.prefix
    names: set[str] = set()
    for topic in catalogue:
        for reader in topic.readers:
            _grant(
                out, reader, ResourceType.TOPIC, topic.name, (Operation.READ, Operation.DESCRIBE)
            )
            names.add(reader)
        for writer in topic.writers:
            _grant(
                out, writer, ResourceType.TOPIC, topic.name, (Operation.WRITE, Operation.DESCRIBE)
            )
            names.add(writer)
    read = (Operation.READ,)
    for name in sorted(names - set(SERVICE_PRINCIPALS)):  # the partners
        _grant(out, name, ResourceType.GROUP, f"{prefix}.sdk.{name}", read)
        _grant(out, name, ResourceType.GROUP, f"{prefix}.sdk.{name}.", read, PatternType.PREFIXED)
        _grant(
            out, name, ResourceType.GROUP, f"{prefix}.deliver.{name}.", read, PatternType.PREFIXED
        )
    _grant(out, ROUTER_PRINCIPAL, ResourceType.GROUP, router_group(prefix), read)
    monitor = monitor_group(prefix)
    _grant(out, AGGREGATOR_PRINCIPAL, ResourceType.GROUP, monitor, read)
    _grant(
        out,
        AGGREGATOR_PRINCIPAL,
        ResourceType.TOPIC,
        f"{monitor}-",
        (Operation.CREATE, Operation.READ, Operation.WRITE, Operation.DESCRIBE),
        PatternType.PREFIXED,
    )
    admin = (
        Operation.CREATE,
        Operation.ALTER,
        Operation.DESCRIBE,
        Operation.DESCRIBE_CONFIGS,
        Operation.ALTER_CONFIGS,
    )
    _grant(out, OPERATOR_PRINCIPAL, ResourceType.TOPIC, f"{prefix}.", admin, PatternType.PREFIXED)
    for topic in catalogue:
        if not topic.name.startswith(f"{prefix}."):
            _grant(out, OPERATOR_PRINCIPAL, ResourceType.TOPIC, topic.name, admin)
    if REGISTRY_PRINCIPAL in names:  # the embedded registry creates its store if missing
        _grant(
            out,
            REGISTRY_PRINCIPAL,
            ResourceType.TOPIC,
            catalogue.schema_store.name,
            (Operation.CREATE,),
        )
    if catalogue.external_schema_store is not None:
        _grant_schema_registry(out, catalogue.external_schema_store)
    return sorted(out)


def principals(bindings: Iterable[AclBinding]) -> list[str]:
    """The user names (without ``User:``) the bindings mention."""
    return sorted({b.principal.removeprefix("User:") for b in bindings})


def topic_grants(bindings: Iterable[AclBinding], who: str) -> dict[str, set[Operation]]:
    """Literal topic name -> operations granted to user ``who``."""
    grants: dict[str, set[Operation]] = defaultdict(set)
    for binding in bindings:
        if (
            binding.principal == principal(who)
            and binding.resource_type is ResourceType.TOPIC
            and binding.pattern_type is PatternType.LITERAL
        ):
            grants[binding.resource_name].add(binding.operation)
    return dict(grants)


def to_json(bindings: Iterable[AclBinding]) -> str:
    return json.dumps([asdict(b) for b in bindings], indent=2) + "\n"


_RESOURCE_FLAG = {
    ResourceType.TOPIC: "--topic",
    ResourceType.GROUP: "--group",
    ResourceType.TRANSACTIONAL_ID: "--transactional-id",
}


def to_kafka_acls_script(bindings: Iterable[AclBinding]) -> str:
    """A POSIX sh script of ``kafka-acls.sh --add`` commands (one per resource).

    It reads ``BOOTSTRAP`` and ``COMMAND_CONFIG`` (an admin client config) from the
    environment, and ``KAFKA_ACLS`` (default ``kafka-acls.sh``). Adding an existing
    ACL is a no-op in Kafka, so the script can run on every deployment.
    """
    grouped: dict[tuple[str, ResourceType, PatternType, str], list[Operation]] = defaultdict(list)
    for b in bindings:
        grouped[(b.principal, b.resource_type, b.pattern_type, b.resource_name)].append(b.operation)
    lines = [
        "#!/bin/sh",
        "# Generated by `rmt-hub acls render --format sh` from the topic catalogue.",
        "set -eu",
        ': "${BOOTSTRAP:?set BOOTSTRAP to the brokers (host:port,...)}"',
        ': "${COMMAND_CONFIG:?set COMMAND_CONFIG to the admin client properties file}"',
        'KAFKA_ACLS="${KAFKA_ACLS:-kafka-acls.sh}"',
        "",
    ]
    for (who, resource, pattern, name), operations in sorted(grouped.items()):
        parts = [
            '"$KAFKA_ACLS" --bootstrap-server "$BOOTSTRAP" --command-config "$COMMAND_CONFIG"',
            "--add",
            f"--allow-principal {shlex.quote(who)}",
            "--allow-host '*'",
        ]
        parts += [f"--operation {op.value}" for op in sorted(operations)]
        if resource is ResourceType.CLUSTER:
            parts.append("--cluster")
        else:
            parts.append(f"{_RESOURCE_FLAG[resource]} {shlex.quote(name)}")
        parts.append(f"--resource-pattern-type {pattern.value}")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"
