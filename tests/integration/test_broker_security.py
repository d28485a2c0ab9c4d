"""The secured broker, proven: Apache Kafka with SASL/SCRAM over TLS, StandardAuthorizer and
exactly the ACLs of ``rmt-hub acls render``, one principal per hub service and partner.

One secured node for the module (hub.broker.secure, the settings compose deploys); the
operator creates the topics with its own ACLs, the broker's own principal (the only
super user) applies the ACLs and puts one record on every topic, so each read either
returns a record or is refused. Every check goes through hub.kafka, so a refusal must
come out as BrokerAuthorizationError naming what was refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import (
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePatternFilter,
)
from kafka.admin import ResourceType as KafkaResourceType

from hub.broker import distribution
from hub.broker.apache import KafkaBroker
from hub.broker.secure import SecuredBrokers
from hub.config import HubSettings, load_settings
from hub.errors import BrokerAuthorizationError
from hub.kafka import (
    admin_client,
    check_authorized,
    consumer,
    discard_producer,
    kafka_errors,
    producer,
)
from hub.registry.store import KafkaSchemaStore, SchemaText, StoredVersion
from hub.security.acls import (
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    monitor_group,
    principal,
    principals,
    render_acls,
    router_group,
)
from hub.security.kafka_acls import create_acls, delete_acls
from topics import Action, apply_to_cluster, build_catalogue
from topics.catalogue import (
    AGGREGATOR_PRINCIPAL,
    CONSENT_PRINCIPAL,
    MONITOR_PRINCIPAL,
    OPERATOR_PRINCIPAL,
    REGISTRY_PRINCIPAL,
    ROUTER_PRINCIPAL,
    TopicCatalogue,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        distribution.find_java() is None, reason="the secured broker is Apache Kafka: needs Java"
    ),
]

PARTNER = "uwv"
OTHER = "gemeente-amsterdam"
_WAIT_S = 60.0


@dataclass
class Secured:
    settings: HubSettings  # plaintext settings bound to the broker's CLIENT listener
    security: SecuredBrokers
    catalogue: TopicCatalogue
    bindings: list[AclBinding]
    admin: KafkaAdminClient  # as the broker itself (super user)

    def as_(self, who: str) -> HubSettings:
        return self.security.client(self.settings, who)


def _acl_count(admin: KafkaAdminClient) -> int:
    everything = ACLFilter(
        principal=None,
        host=None,
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(
            KafkaResourceType.ANY, None, ACLResourcePatternType.ANY
        ),
    )
    acls, error = admin.describe_acls(everything)
    assert error.errno == 0, error
    return len(acls)


def set_acls(
    secured: Secured,
    *,
    add: list[AclBinding] = (),
    remove: list[AclBinding] = (),  # type: ignore[assignment]
) -> None:
    """Change the cluster's ACLs and wait until the authorizer serves the new set."""
    expected = _acl_count(secured.admin) + len(set(add)) - len(set(remove))
    if add:
        create_acls(secured.admin, add)
    if remove:
        delete_acls(secured.admin, remove)
    deadline = time.monotonic() + _WAIT_S
    while _acl_count(secured.admin) != expected:
        assert time.monotonic() < deadline, "the ACL change never showed"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    root: Path = tmp_path_factory.mktemp("secured")
    base = load_settings(data_dir=root / "hub", topic_partitions=1, replication_factor=1)
    catalogue = build_catalogue(base)
    bindings = render_acls(catalogue)
    security = SecuredBrokers.create(root / "pki", principals(bindings))
    broker = KafkaBroker(
        data_dir=root / "kafka",
        log_path=root / "broker.log",
        security=security,
        ready_timeout_s=300,
    )
    settings = base.with_bootstrap(broker.start())
    admin = admin_client(security.as_broker(settings))
    try:
        secured = Secured(settings, security, catalogue, bindings, admin)
        set_acls(secured, add=bindings)
        report = apply_to_cluster(secured.as_(OPERATOR_PRINCIPAL), catalogue)
        assert report.count(Action.CREATE) == len(catalogue)  # all by the operator
        seed = producer(security.as_broker(settings))
        try:
            for topic in catalogue.names():
                seed.send(topic, b"seed", key=b"seed").get(timeout=60)
        finally:
            discard_producer(seed)
        yield secured
    finally:
        admin.close()
        broker.stop()


# --- what a principal can do, through hub.kafka ------------------------------------------------
def write(settings: HubSettings, topic: str) -> None:
    prod = producer(settings, max_block_ms=30_000)
    try:
        with kafka_errors(f"writing to {topic}"):
            prod.send(topic, b"probe", key=b"probe").get(timeout=60)
    finally:
        discard_producer(prod)


def read(settings: HubSettings, topic: str, group: str | None = None) -> None:
    """Fetch the first record of ``topic`` (and commit it in ``group``)."""
    reader = consumer(settings, group_id=group, fetch_max_wait_ms=50)
    tp = TopicPartition(topic, 0)
    try:
        with kafka_errors(f"reading {topic}"):
            reader.assign([tp])
            reader.seek_to_beginning(tp)
            deadline = time.monotonic() + _WAIT_S
            while not reader.poll(timeout_ms=200).get(tp):
                check_authorized(reader, f"reading {topic}")
                assert time.monotonic() < deadline, f"{topic}: neither a record nor a refusal"
            if group is not None:
                reader.commit()
    finally:
        reader.close()


def refused(action: Callable[[], None]) -> BrokerAuthorizationError | None:
    try:
        action()
    except BrokerAuthorizationError as exc:
        return exc
    return None


def partner_breaches(secured: Secured, partner: str, other: str) -> list[str]:
    """What ``partner`` can do that it must not: each a topic (or group) it was not
    refused, or refused without being named. Empty when the ACLs hold."""
    c = secured.catalogue
    me = secured.as_(partner)
    checks: dict[str, tuple[Callable[[], None], str]] = {
        "read another partner's inbox": (
            lambda: read(me, c.inbox(other).name),
            c.inbox(other).name,
        ),
        "write another partner's outbox": (
            lambda: write(me, c.outbox(other).name),
            c.outbox(other).name,
        ),
        "read its own outbox": (lambda: read(me, c.outbox(partner).name), c.outbox(partner).name),
        "write its own inbox": (lambda: write(me, c.inbox(partner).name), c.inbox(partner).name),
        "read the consent feed": (
            lambda: read(me, c.consent_changes.name),
            c.consent_changes.name,
        ),
        "write the consent feed": (
            lambda: write(me, c.consent_changes.name),
            c.consent_changes.name,
        ),
        "read the audit topic": (lambda: read(me, c.disclosures.name), c.disclosures.name),
        "write the audit topic": (lambda: write(me, c.disclosures.name), c.disclosures.name),
        "read the routing state": (lambda: read(me, c.routing_state.name), c.routing_state.name),
        "write the routing state": (
            lambda: write(me, c.routing_state.name),
            c.routing_state.name,
        ),
        "read the dead letters": (lambda: read(me, c.dead_letter.name), c.dead_letter.name),
        "read the monitor events": (
            lambda: read(me, c.monitor_events.name),
            c.monitor_events.name,
        ),
        "use another partner's consumer group": (
            lambda: read(me, c.inbox(partner).name, group=f"{c.prefix}.sdk.{other}"),
            f"{c.prefix}.sdk.{other}",
        ),
    }
    breaches = []
    for what, (action, named) in checks.items():
        error = refused(action)
        if error is None or named not in str(error):
            breaches.append(what)
    return breaches


# --- partners ----------------------------------------------------------------------------------
def test_a_partner_writes_its_outbox_and_reads_its_inbox(secured: Secured) -> None:
    c = secured.catalogue
    me = secured.as_(PARTNER)
    write(me, c.outbox(PARTNER).name)
    read(me, c.inbox(PARTNER).name, group=f"{c.prefix}.sdk.{PARTNER}")
    read(me, c.inbox(PARTNER).name, group=f"{c.prefix}.deliver.{PARTNER}.files")
    write(me, c.dead_letter.name)  # its connectors dead-letter rows they cannot map


def test_a_partner_is_refused_everything_else_and_told_what(secured: Secured) -> None:
    assert partner_breaches(secured, PARTNER, OTHER) == []


def test_a_refusal_names_the_topic(secured: Secured) -> None:
    inbox = secured.catalogue.inbox(OTHER).name
    with pytest.raises(BrokerAuthorizationError, match=f"not authorized for topic {inbox}") as e:
        read(secured.as_(PARTNER), inbox)
    assert e.value.topics == (inbox,)


# --- the ACL tests catch a widened ACL and a shared principal -----------------------------------
def test_the_partner_checks_see_a_widened_acl(secured: Secured) -> None:
    widened = AclBinding(
        principal(PARTNER),
        ResourceType.TOPIC,
        PatternType.LITERAL,
        secured.catalogue.inbox(OTHER).name,
        Operation.READ,
    )
    set_acls(secured, add=[widened])
    try:
        assert partner_breaches(secured, PARTNER, OTHER) == ["read another partner's inbox"]
    finally:
        set_acls(secured, remove=[widened])
    assert partner_breaches(secured, PARTNER, OTHER) == []


def test_the_partner_checks_see_a_principal_shared_with_the_router(secured: Secured) -> None:
    """As if the partner signed in with the router's principal: every grant of the router
    also given to the partner."""
    shared = [
        AclBinding(
            principal(PARTNER), b.resource_type, b.pattern_type, b.resource_name, b.operation
        )
        for b in secured.bindings
        if b.principal == principal(ROUTER_PRINCIPAL)
    ]
    extra = [b for b in shared if b not in set(secured.bindings)]
    set_acls(secured, add=extra)
    try:
        breaches = partner_breaches(secured, PARTNER, OTHER)
    finally:
        set_acls(secured, remove=extra)
    assert {
        "read another partner's inbox",
        "read its own outbox",
        "write its own inbox",
        "read the consent feed",
        "read the audit topic",
        "write the audit topic",
        "read the routing state",
        "write the routing state",
        "read the dead letters",
    } <= set(breaches)


# --- each hub service with exactly its ACLs -----------------------------------------------------
def _granted(secured: Secured, who: str, resource: str, operation: Operation) -> AclBinding:
    (binding,) = [
        b
        for b in secured.bindings
        if b.principal == principal(who)
        and b.resource_name == resource
        and b.operation is operation
    ]
    return binding


def test_the_router_consumes_an_outbox_and_writes_the_rest(secured: Secured) -> None:
    c = secured.catalogue
    router = secured.as_(ROUTER_PRINCIPAL)
    read(router, c.outbox(PARTNER).name, group=router_group(c.prefix))
    for topic in (c.consent_changes, c.routing_state, c.disclosures, c.dead_letter, c.inbox(OTHER)):
        read(router, topic.name)
    for topic in (c.inbox(OTHER), c.disclosures, c.routing_state, c.dead_letter, c.monitor_events):
        write(router, topic.name)
    assert refused(lambda: write(router, c.consent_changes.name)) is not None
    assert refused(lambda: write(router, c.outbox(PARTNER).name)) is not None


def test_the_router_without_its_inbox_acl_is_told_which_topic(secured: Secured) -> None:
    inbox = secured.catalogue.inbox(OTHER).name
    grant = _granted(secured, ROUTER_PRINCIPAL, inbox, Operation.WRITE)
    set_acls(secured, remove=[grant])
    try:
        error = refused(lambda: write(secured.as_(ROUTER_PRINCIPAL), inbox))
    finally:
        set_acls(secured, add=[grant])
    assert error is not None
    assert error.topics == (inbox,)
    write(secured.as_(ROUTER_PRINCIPAL), inbox)


def test_the_consent_service_publishes_and_reads_the_disclosures(secured: Secured) -> None:
    c = secured.catalogue
    consent = secured.as_(CONSENT_PRINCIPAL)
    write(consent, c.consent_changes.name)
    read(consent, c.consent_changes.name)  # the outbox relay checks what it published
    read(consent, c.disclosures.name)
    grant = _granted(secured, CONSENT_PRINCIPAL, c.consent_changes.name, Operation.WRITE)
    set_acls(secured, remove=[grant])
    try:
        error = refused(lambda: write(consent, c.consent_changes.name))
    finally:
        set_acls(secured, add=[grant])
    assert error is not None
    assert c.consent_changes.name in str(error)


def test_the_registry_stores_a_schema(secured: Secured) -> None:
    store = KafkaSchemaStore(secured.as_(REGISTRY_PRINCIPAL)).start()
    try:
        entry = StoredVersion("security-test-value", 1, 9001, SchemaText('"string"'))
        store.write_schema(entry)
    finally:
        store.stop()
    topic = secured.catalogue.schema_store.name
    grant = _granted(secured, REGISTRY_PRINCIPAL, topic, Operation.WRITE)
    set_acls(secured, remove=[grant])
    try:
        error = refused(lambda: write(secured.as_(REGISTRY_PRINCIPAL), topic))
    finally:
        set_acls(secured, add=[grant])
    assert error is not None
    assert topic in str(error)


def test_the_aggregator_reads_the_monitor_events_in_its_group(secured: Secured) -> None:
    c = secured.catalogue
    monitor = secured.as_(AGGREGATOR_PRINCIPAL)
    read(monitor, c.monitor_events.name, group=monitor_group(c.prefix))
    write(monitor, c.monitor_reports.name)
    changelog = f"{monitor_group(c.prefix)}-figures-changelog"  # its faust table's
    with kafka_errors("creating the changelog"):
        admin = admin_client(monitor)
        try:
            from kafka.admin import NewTopic  # noqa: PLC0415

            admin.create_topics([NewTopic(changelog, 1, 1)])
        finally:
            admin.close()
    write(monitor, changelog)
    grant = _granted(secured, AGGREGATOR_PRINCIPAL, c.monitor_events.name, Operation.READ)
    set_acls(secured, remove=[grant])
    try:
        error = refused(lambda: read(monitor, c.monitor_events.name))
    finally:
        set_acls(secured, add=[grant])
    assert error is not None
    assert error.topics == (c.monitor_events.name,)
    assert refused(lambda: read(monitor, c.disclosures.name)) is not None


def test_regression_the_monitor_s_analysts_read_the_per_person_events(secured: Secured) -> None:
    """Issue 20: the monitor principal read every person's monitor events. It reads the
    published reports; the events, the aggregator's group and its unsuppressed table are
    refused, each naming what."""
    c = secured.catalogue
    analyst = secured.as_(MONITOR_PRINCIPAL)
    read(analyst, c.monitor_reports.name)
    error = refused(lambda: read(analyst, c.monitor_events.name))
    assert error is not None
    assert error.topics == (c.monitor_events.name,)
    assert refused(lambda: read(analyst, c.monitor_events.name, group=monitor_group(c.prefix)))
    assert refused(lambda: write(analyst, c.monitor_reports.name)) is not None
