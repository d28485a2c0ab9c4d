"""The topic catalogue as code: every topic the hub uses, and why.

One :class:`TopicSpec` per topic: name, partitions, key, value schemas, cleanup policy,
retention, owning principal and who may write and read it. Per-partner inbox and outbox
topics are derived from the partner directory. Everything keyed by the client pseudonym
has the same partition count, so streams and tables can be joined per subject
(co-partitioning: docs/decisions/0004-co-partitioning-by-client-pseudonym.md).

Correctness never rests on compaction or retention (the embedded broker enforces
neither); they are storage policy for Apache Kafka.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from hub.config import HubSettings
from hub.errors import TopicError
from topics.partners import PartnerDirectory, load_partners

__all__ = [
    "AGGREGATOR_PRINCIPAL",
    "BUSINESS_RECORDS",
    "CONSENT_PRINCIPAL",
    "INBOX_NOTICES",
    "INCARNATION_MARKER",
    "MONITOR_PRINCIPAL",
    "MONITOR_REPORT",
    "OPERATOR_PRINCIPAL",
    "PERSON_RECORDS",
    "REGISTRY_PRINCIPAL",
    "ROUTER_PRINCIPAL",
    "SCHEMA_REGISTRY_PRINCIPAL",
    "SERVICE_PRINCIPALS",
    "CleanupPolicy",
    "KeyKind",
    "TopicCatalogue",
    "TopicSpec",
    "ValueFormat",
    "build_catalogue",
    "incarnation_topic",
]

ROUTER_PRINCIPAL = "router"
"""The router workers (``rmt-hub router``)."""
CONSENT_PRINCIPAL = "consent"
"""The consent service (``rmt-hub consent serve``): the consent feed's relay."""
REGISTRY_PRINCIPAL = "registry"
"""The embedded schema registry (``rmt-hub registry``)."""
MONITOR_PRINCIPAL = "monitor"
"""The national monitor's analysts: the published, suppressed reports only, never the
per-person monitor events (docs/decisions/0016-monitor-access-by-need.md)."""
AGGREGATOR_PRINCIPAL = "aggregator"
"""The national monitor's aggregator (``rmt-hub monitor aggregate|report``): the only
reader of the per-person monitor events; it publishes the reports."""
OPERATOR_PRINCIPAL = "operator"
"""The operator's tools: ``topics apply``, the incarnation marker, the self-check and
``audit verify`` (compose's hub-init)."""
SCHEMA_REGISTRY_PRINCIPAL = "schema-registry"
"""The external (Confluent) schema registry's Kafka store, when ``HUB_SCHEMA_REGISTRY_URL``
is set: docker-compose.yml's ``schema-registry``."""
SERVICE_PRINCIPALS: tuple[str, ...] = (
    ROUTER_PRINCIPAL,
    CONSENT_PRINCIPAL,
    REGISTRY_PRINCIPAL,
    MONITOR_PRINCIPAL,
    AGGREGATOR_PRINCIPAL,
    OPERATOR_PRINCIPAL,
    SCHEMA_REGISTRY_PRINCIPAL,
)
"""The Kafka principal of each hub service: one each, none shared (a partner's
principal is its partner id; docs/decisions/0013-one-principal-per-service.md)."""

NAMESPACE = "nl.rmt.hub"
PERSON_RECORDS: tuple[str, ...] = tuple(
    f"{NAMESPACE}.{name}"
    for name in (
        "ClientProfile",
        "IntakeDecision",
        "PersonalArrangement",
        "Referral",
        "PlacementOutcome",
        "ResponsibilityTransfer",
        "Availability",
    )
)
"""Canonical records about one person, keyed by client pseudonym."""
VACANCY = f"{NAMESPACE}.Vacancy"
STAFF_SURPLUS = f"{NAMESPACE}.StaffSurplus"
"""A company's staff surplus (business data), keyed by surplus id."""
BUSINESS_RECORDS: tuple[str, ...] = (VACANCY, STAFF_SURPLUS)
"""Business records (no personal data): routed to a region's partners without consent."""
CONSENT_CHANGE = f"{NAMESPACE}.ConsentChange"
MONITOR_EVENT = f"{NAMESPACE}.MonitorEvent"
DEAD_LETTER = f"{NAMESPACE}.DeadLetter"
DISCLOSURE_EVENT = f"{NAMESPACE}.DisclosureEvent"
REJECTION_NOTICE = f"{NAMESPACE}.RejectionNotice"
ERASURE_NOTICE = f"{NAMESPACE}.ErasureNotice"
ROUTING_STATE = f"{NAMESPACE}.RoutingState"
INCARNATION_MARKER = "rmt-hub.broker-incarnation"
"""JSON marker of one life of the cluster's data (hub.continuity)."""
MONITOR_REPORT = "rmt-hub.monitor-report"
"""JSON bi-monthly report of the national monitor, suppressed (hub.monitor.report)."""
INBOX_NOTICES: tuple[str, ...] = (REJECTION_NOTICE, ERASURE_NOTICE)
"""What the hub writes to a partner's inbox besides the records it may receive."""

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
FOREVER = -1

_KAFKA_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


def incarnation_topic(prefix: str) -> str:
    """The incarnation marker's topic (hub.continuity), for the topic prefix ``prefix``."""
    return f"{prefix}.hub.incarnation"


class CleanupPolicy(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"
    COMPACT_DELETE = "compact,delete"


class ValueFormat(StrEnum):
    AVRO = "avro"  # canonical records in the Confluent wire format
    JSON = "json"  # the registry's store (Confluent's layout), the incarnation marker


class KeyKind(StrEnum):
    """What a topic's record key is."""

    CLIENT_PSEUDONYM = "client pseudonym (vacancy or surplus id for business records)"
    MONITOR_PSEUDONYM = "monitor pseudonym (HMAC, not linkable to partner pseudonyms)"
    REPORT_PERIOD = "reporting period, and region when the report is of one ('2021-03/04|R')"
    EVENT_ID = "event id"
    REGISTRY_KEY = "schema registry key (subject, version)"


class TopicSpec(BaseModel):
    """One topic of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    partitions: int = Field(ge=1)
    replication_factor: int = Field(ge=1)
    key: KeyKind
    value_schemas: tuple[str, ...] = Field(min_length=1)
    value_format: ValueFormat = ValueFormat.AVRO
    cleanup_policy: CleanupPolicy
    retention_ms: int = Field(ge=FOREVER)
    owner: str
    writers: tuple[str, ...]
    readers: tuple[str, ...]

    @property
    def co_partitioned(self) -> bool:
        """Keyed by the client pseudonym: must share the partition count of the others."""
        return self.key is KeyKind.CLIENT_PSEUDONYM

    def configs(self) -> dict[str, str]:
        """The broker-side topic configuration."""
        return {"cleanup.policy": self.cleanup_policy.value, "retention.ms": str(self.retention_ms)}


class TopicCatalogue(BaseModel):
    """All topics; checked for consistency on construction."""

    model_config = ConfigDict(frozen=True)

    prefix: str
    topics: tuple[TopicSpec, ...]
    external_schema_store: str | None = None
    """The topic where the external schema registry keeps its schemas in this cluster
    (its ``kafkastore.topic``), when ``HUB_SCHEMA_REGISTRY_URL`` is set. The registry
    creates and checks it itself, so it is no topic of the catalogue: ``topics apply``
    leaves it alone and only the registry's principal is granted it."""

    def __iter__(self) -> Iterator[TopicSpec]:  # type: ignore[override]
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def get(self, name: str) -> TopicSpec:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise TopicError(f"'{name}' is not in the topic catalogue")

    def names(self) -> list[str]:
        return [t.name for t in self.topics]

    def outbox(self, partner_id: str) -> TopicSpec:
        return self.get(f"{self.prefix}.partner.{partner_id}.outbox")

    def inbox(self, partner_id: str) -> TopicSpec:
        return self.get(f"{self.prefix}.partner.{partner_id}.inbox")

    @property
    def dead_letter(self) -> TopicSpec:
        return self.get(f"{self.prefix}.hub.deadletter")

    @property
    def consent_changes(self) -> TopicSpec:
        return self.get(f"{self.prefix}.consent.changes")

    @property
    def disclosures(self) -> TopicSpec:
        """The audit topic: one DisclosureEvent per delivered record."""
        return self.get(f"{self.prefix}.audit.disclosures")

    @property
    def repartition(self) -> TopicSpec:
        """Outbox records the router moved to the partition their key hashes to
        (docs/decisions/0015-partition-agnostic-inbound.md)."""
        return self.get(f"{self.prefix}.hub.repartition")

    @property
    def routing_state(self) -> TopicSpec:
        """The router's per-subject state (validation across records)."""
        return self.get(f"{self.prefix}.hub.routing-state")

    def outboxes(self) -> list[TopicSpec]:
        """Every partner outbox, in directory order."""
        return [t for t in self.topics if t.name.endswith(".outbox")]

    def inboxes(self) -> list[TopicSpec]:
        """Every partner inbox, in directory order."""
        return [t for t in self.topics if t.name.endswith(".inbox")]

    @property
    def monitor_events(self) -> TopicSpec:
        """Per-person monitor events: the aggregator reads them, nobody else."""
        return self.get(f"{self.prefix}.monitor.events")

    @property
    def monitor_reports(self) -> TopicSpec:
        """The published reports: what the monitor's analysts read."""
        return self.get(f"{self.prefix}.monitor.reports")

    @property
    def schema_store(self) -> TopicSpec:
        for topic in self.topics:
            if topic.key is KeyKind.REGISTRY_KEY:
                return topic
        raise TopicError("the catalogue has no schema store (an external registry is used)")

    @property
    def incarnation(self) -> TopicSpec:
        return self.get(incarnation_topic(self.prefix))

    @property
    def selfcheck(self) -> TopicSpec:
        return self.get(f"{self.prefix}.hub.selfcheck")

    def readable_by(self, principal: str) -> list[TopicSpec]:
        return [t for t in self.topics if principal in t.readers]

    def check(self, schema_names: Iterable[str], principals: Iterable[str]) -> None:
        """Raise TopicError on any inconsistency (names, schemas, principals, partitions)."""
        known_schemas = set(schema_names)
        known_principals = {*principals, *SERVICE_PRINCIPALS}
        seen: set[str] = set()
        for topic in self.topics:
            if not _KAFKA_NAME.match(topic.name):
                raise TopicError(f"{topic.name}: not a valid Kafka topic name")
            if topic.name in seen:
                raise TopicError(f"{topic.name}: defined twice")
            seen.add(topic.name)
            for schema in topic.value_schemas:
                if topic.value_format is ValueFormat.AVRO and schema not in known_schemas:
                    raise TopicError(f"{topic.name}: value schema {schema} does not exist")
            for principal in (topic.owner, *topic.writers, *topic.readers):
                if principal not in known_principals:
                    raise TopicError(f"{topic.name}: unknown principal '{principal}'")
        counts = {t.partitions for t in self.topics if t.co_partitioned}
        if len(counts) > 1:
            raise TopicError(
                f"topics keyed by client pseudonym must be co-partitioned, found counts {counts}"
            )


def build_catalogue(
    settings: HubSettings, partners: PartnerDirectory | None = None
) -> TopicCatalogue:
    """The catalogue for these settings and partner directory."""
    partners = partners if partners is not None else load_partners(settings.partners_file)
    if clash := sorted({p.id for p in partners} & set(SERVICE_PRINCIPALS)):
        raise TopicError(
            f"partner ids {clash} are Kafka principals of hub services; rename the partners"
        )
    prefix = settings.topic_prefix
    n = settings.topic_partitions
    rf = settings.replication_factor
    topics: list[TopicSpec] = []
    for partner in partners:
        topics.append(
            TopicSpec(
                name=f"{prefix}.partner.{partner.id}.outbox",
                description=f"What {partner.name} publishes; read by the hub's router only.",
                partitions=n,
                replication_factor=rf,
                key=KeyKind.CLIENT_PSEUDONYM,
                value_schemas=(*PERSON_RECORDS, *BUSINESS_RECORDS),
                cleanup_policy=CleanupPolicy.DELETE,
                retention_ms=7 * DAY_MS,
                owner=partner.id,
                writers=(partner.id,),
                readers=(ROUTER_PRINCIPAL,),
            )
        )
        topics.append(
            TopicSpec(
                name=f"{prefix}.partner.{partner.id}.inbox",
                description=f"What {partner.name} may receive under its consents (only the "
                "consented fields), notices about its own records (rejections) and erasure "
                "notices with a tombstone per subject when a consent ends. Compacted on Apache "
                "Kafka so a tombstone removes the subject's earlier records.",
                partitions=n,
                replication_factor=rf,
                key=KeyKind.CLIENT_PSEUDONYM,
                value_schemas=(*PERSON_RECORDS, *BUSINESS_RECORDS, *INBOX_NOTICES),
                cleanup_policy=CleanupPolicy.COMPACT_DELETE,
                retention_ms=30 * DAY_MS,
                owner=ROUTER_PRINCIPAL,
                writers=(ROUTER_PRINCIPAL,),
                # the router reads them back on assignment (the ids it already wrote)
                readers=(partner.id, ROUTER_PRINCIPAL),
            )
        )
    topics += [
        TopicSpec(
            name=f"{prefix}.consent.changes",
            description="Every consent change (given, withdrawn, expired), published by the "
            "consent service through its outbox; the router's consent table is built from it.",
            partitions=n,
            replication_factor=rf,
            key=KeyKind.CLIENT_PSEUDONYM,
            value_schemas=(CONSENT_CHANGE,),
            cleanup_policy=CleanupPolicy.DELETE,
            retention_ms=FOREVER,
            owner=CONSENT_PRINCIPAL,
            writers=(CONSENT_PRINCIPAL,),
            readers=(ROUTER_PRINCIPAL, CONSENT_PRINCIPAL),
        ),
        TopicSpec(
            name=f"{prefix}.audit.disclosures",
            description="The audit trail: one DisclosureEvent per record the router delivered "
            "(recipient, purpose, categories and fields, consents, payload hash); the "
            "consent service's subject access report reads it.",
            partitions=n,
            replication_factor=rf,
            key=KeyKind.CLIENT_PSEUDONYM,
            value_schemas=(DISCLOSURE_EVENT,),
            cleanup_policy=CleanupPolicy.DELETE,
            retention_ms=FOREVER,
            owner=ROUTER_PRINCIPAL,
            writers=(ROUTER_PRINCIPAL,),
            readers=(ROUTER_PRINCIPAL, CONSENT_PRINCIPAL, OPERATOR_PRINCIPAL),
        ),
        TopicSpec(
            name=f"{prefix}.hub.routing-state",
            description="The router's state per subject (residence, benefit, first-responsible "
            "party, latest arrangements), rebuilt by a router worker on every assignment.",
            partitions=n,
            replication_factor=rf,
            key=KeyKind.CLIENT_PSEUDONYM,
            value_schemas=(ROUTING_STATE,),
            cleanup_policy=CleanupPolicy.COMPACT,
            retention_ms=FOREVER,
            owner=ROUTER_PRINCIPAL,
            writers=(ROUTER_PRINCIPAL,),
            readers=(ROUTER_PRINCIPAL,),
        ),
        TopicSpec(
            name=f"{prefix}.hub.repartition",
            description="Outbox records published to another partition than the one their "
            "key hashes to (murmur2): the router moves them here, to that partition, as they "
            "arrived plus the header naming where (rmt-moved-from), and routes them from here.",
            partitions=n,
            replication_factor=rf,
            key=KeyKind.CLIENT_PSEUDONYM,
            value_schemas=(*PERSON_RECORDS, *BUSINESS_RECORDS),
            cleanup_policy=CleanupPolicy.DELETE,
            retention_ms=7 * DAY_MS,
            owner=ROUTER_PRINCIPAL,
            writers=(ROUTER_PRINCIPAL,),
            readers=(ROUTER_PRINCIPAL,),
        ),
        TopicSpec(
            name=f"{prefix}.hub.deadletter",
            description="Records the hub could not accept, with a reason code and message.",
            partitions=n,
            replication_factor=rf,
            key=KeyKind.CLIENT_PSEUDONYM,
            value_schemas=(DEAD_LETTER,),
            cleanup_policy=CleanupPolicy.DELETE,
            retention_ms=30 * DAY_MS,
            owner=ROUTER_PRINCIPAL,
            # the partners' connectors dead-letter rows they cannot map (write only)
            writers=(ROUTER_PRINCIPAL, *(partner.id for partner in partners)),
            readers=(ROUTER_PRINCIPAL, OPERATOR_PRINCIPAL),
        ),
        TopicSpec(
            name=f"{prefix}.monitor.events",
            description="Pseudonymised, generalised events for the national monitor.",
            partitions=n,
            replication_factor=rf,
            key=KeyKind.MONITOR_PSEUDONYM,
            value_schemas=(MONITOR_EVENT,),
            cleanup_policy=CleanupPolicy.DELETE,
            retention_ms=FOREVER,
            owner=ROUTER_PRINCIPAL,
            writers=(ROUTER_PRINCIPAL,),
            readers=(AGGREGATOR_PRINCIPAL,),  # never the analysts: decision 0016
        ),
        TopicSpec(
            name=f"{prefix}.monitor.reports",
            description="The national monitor's bi-monthly reports, small cells suppressed: "
            "the latest per period (and region), as the aggregator published it.",
            partitions=1,
            replication_factor=rf,
            key=KeyKind.REPORT_PERIOD,
            value_schemas=(MONITOR_REPORT,),
            value_format=ValueFormat.JSON,
            cleanup_policy=CleanupPolicy.COMPACT,
            retention_ms=FOREVER,
            owner=AGGREGATOR_PRINCIPAL,
            writers=(AGGREGATOR_PRINCIPAL,),
            readers=(MONITOR_PRINCIPAL,),
        ),
        TopicSpec(
            name=f"{prefix}.hub.selfcheck",
            description="Round trips of one example record per schema by `rmt-hub up`.",
            partitions=1,
            replication_factor=rf,
            key=KeyKind.EVENT_ID,
            value_schemas=(
                *PERSON_RECORDS,
                *BUSINESS_RECORDS,
                CONSENT_CHANGE,
                MONITOR_EVENT,
                DEAD_LETTER,
                DISCLOSURE_EVENT,
                *INBOX_NOTICES,
                ROUTING_STATE,
            ),
            cleanup_policy=CleanupPolicy.DELETE,
            retention_ms=HOUR_MS,
            owner=OPERATOR_PRINCIPAL,
            writers=(OPERATOR_PRINCIPAL,),
            readers=(OPERATOR_PRINCIPAL,),
        ),
        TopicSpec(
            name=incarnation_topic(prefix),
            description="The incarnation marker: one JSON record the hub writes when it "
            "first meets the cluster (and after a recovery); if it is gone, the broker has "
            "lost its data and the hub says so (hub.continuity).",
            partitions=1,
            replication_factor=rf,
            key=KeyKind.EVENT_ID,
            value_schemas=(INCARNATION_MARKER,),
            value_format=ValueFormat.JSON,
            cleanup_policy=CleanupPolicy.DELETE,
            retention_ms=FOREVER,
            owner=OPERATOR_PRINCIPAL,
            writers=(OPERATOR_PRINCIPAL,),
            readers=(OPERATOR_PRINCIPAL,),
        ),
    ]
    if settings.schema_registry_url is None:
        topics.append(
            TopicSpec(
                name=settings.schema_registry_topic,
                description="The embedded schema registry's store: every schema, version "
                "and config change, so all hub processes see the same ids.",
                partitions=1,
                replication_factor=rf,
                key=KeyKind.REGISTRY_KEY,
                value_schemas=("confluent-schema-registry-record",),
                value_format=ValueFormat.JSON,
                cleanup_policy=CleanupPolicy.COMPACT,
                retention_ms=FOREVER,
                owner=REGISTRY_PRINCIPAL,
                writers=(REGISTRY_PRINCIPAL,),
                readers=(REGISTRY_PRINCIPAL,),
            )
        )
    external = settings.schema_registry_topic if settings.schema_registry_url else None
    return TopicCatalogue(prefix=prefix, topics=tuple(topics), external_schema_store=external)
