"""ACLs rendered from the topic catalogue give each principal exactly its own topics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import load_settings
from hub.security.acls import (
    SCHEMA_REGISTRY_GROUP,
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    principals,
    render_acls,
    to_json,
    to_kafka_acls_script,
    topic_grants,
)
from topics import build_catalogue
from topics.catalogue import SCHEMA_REGISTRY_PRINCIPAL, SERVICE_PRINCIPALS, TopicCatalogue
from topics.partners import load_partners

READ = {Operation.READ, Operation.DESCRIBE}
WRITE = {Operation.WRITE, Operation.DESCRIBE}
#: what the operator may do to topics besides the catalogue's reads and writes (topics apply)
OPERATOR_EXTRA = {
    "operator": {
        Operation.CREATE,
        Operation.ALTER,
        Operation.DESCRIBE,
        Operation.DESCRIBE_CONFIGS,
        Operation.ALTER_CONFIGS,
    },
    "registry": {Operation.CREATE},
}


@pytest.fixture
def catalogue(tmp_path: Path) -> TopicCatalogue:
    return build_catalogue(load_settings(data_dir=tmp_path))


@pytest.fixture
def bindings(catalogue: TopicCatalogue) -> list[AclBinding]:
    return render_acls(catalogue)


def test_each_partner_gets_exactly_its_inbox_and_outbox(
    catalogue: TopicCatalogue, bindings: list[AclBinding]
) -> None:
    for partner in load_partners():
        grants = topic_grants(bindings, partner.id)
        assert grants == {
            catalogue.inbox(partner.id).name: READ,
            catalogue.outbox(partner.id).name: WRITE,
            catalogue.dead_letter.name: WRITE,  # its connectors' dead letters
        }, partner.id
        mine = [b for b in bindings if b.principal == f"User:{partner.id}"]
        others = {p.id for p in load_partners()} - {partner.id}
        for binding in mine:
            assert binding.pattern_type is PatternType.LITERAL or binding.resource_name.endswith(
                "."
            )
            assert binding.resource_type in {ResourceType.TOPIC, ResourceType.GROUP}
            for other in others:
                assert f".{other}." not in binding.resource_name + "."
        groups = {
            (b.pattern_type, b.resource_name) for b in mine if b.resource_type is ResourceType.GROUP
        }
        assert groups == {
            (PatternType.LITERAL, f"rmt.sdk.{partner.id}"),
            (PatternType.PREFIXED, f"rmt.sdk.{partner.id}."),
            (PatternType.PREFIXED, f"rmt.deliver.{partner.id}."),
        }


def test_regression_the_monitor_principal_read_the_per_person_monitor_events(
    catalogue: TopicCatalogue, bindings: list[AclBinding]
) -> None:
    """Issue 20: the monitor principal (the analysts) read every person's events (a
    pseudonym, day-level dates, exact costs) and the aggregator's unsuppressed table. It
    reads the published reports now, and nothing else at all."""
    monitor = [b for b in bindings if b.principal == "User:monitor"]
    assert {(b.resource_type, b.pattern_type, b.resource_name) for b in monitor} == {
        (ResourceType.TOPIC, PatternType.LITERAL, catalogue.monitor_reports.name)
    }
    assert {b.operation for b in monitor} == READ


def test_only_the_aggregator_reads_the_monitor_events(
    catalogue: TopicCatalogue, bindings: list[AclBinding]
) -> None:
    readers = {
        b.principal
        for b in bindings
        if b.resource_name == catalogue.monitor_events.name and b.operation is Operation.READ
    }
    assert readers == {"User:aggregator"}
    assert topic_grants(bindings, "aggregator") == {
        catalogue.monitor_events.name: READ,
        catalogue.monitor_reports.name: WRITE,
    }


def test_regression_the_monitor_s_group_was_not_the_one_faust_joins(
    bindings: list[AclBinding],
) -> None:
    """The monitor's faust app joins group ``rmt-monitor`` (its app id); the ACLs granted
    ``rmt.monitor``, so the monitor would have been refused its group. (The worker signs
    in as the aggregator since issue 20.)"""
    groups = {
        b.resource_name
        for b in bindings
        if b.principal == "User:aggregator" and b.resource_type is ResourceType.GROUP
    }
    assert groups == {"rmt-monitor"}


def test_regression_the_router_could_not_read_the_inboxes_it_loads(
    catalogue: TopicCatalogue, bindings: list[AclBinding]
) -> None:
    """The router reads every inbox back on assignment (hub.router.loader)."""
    grants = topic_grants(bindings, "router")
    for inbox in catalogue.inboxes():
        assert grants[inbox.name] >= READ | WRITE, inbox.name


@pytest.mark.parametrize("service", SERVICE_PRINCIPALS)
def test_each_service_gets_exactly_what_the_catalogue_says(
    catalogue: TopicCatalogue, bindings: list[AclBinding], service: str
) -> None:
    grants = topic_grants(bindings, service)
    for topic in catalogue:
        expected: set[Operation] = set()
        if service in topic.readers:
            expected |= READ
        if service in topic.writers:
            expected |= WRITE
        got = grants.get(topic.name, set())
        assert expected <= got, (service, topic.name)
        assert got - expected <= OPERATOR_EXTRA.get(service, set()), (service, topic.name)


def test_no_shared_hub_principal_and_no_transactional_ids(bindings: list[AclBinding]) -> None:
    assert "hub" not in principals(bindings)
    assert all(b.resource_type is not ResourceType.TRANSACTIONAL_ID for b in bindings)


def test_no_wildcards_and_no_everyone(bindings: list[AclBinding]) -> None:
    assert all(b.resource_name not in {"*", ""} for b in bindings)
    assert all(b.principal != "User:*" and b.permission == "Allow" for b in bindings)
    assert principals(bindings)[:4] == [
        "aggregator",
        "consent",
        "gemeente-amsterdam",
        "gemeente-rotterdam",
    ]
    # the embedded registry's principal, not the external one's (no external registry here)
    assert {*SERVICE_PRINCIPALS, "uwv"} - set(principals(bindings)) == {SCHEMA_REGISTRY_PRINCIPAL}


def test_an_external_registry_gets_its_store_and_group_the_embedded_one_nothing(
    tmp_path: Path,
) -> None:
    """With HUB_SCHEMA_REGISTRY_URL the Confluent registry keeps its schemas in the
    cluster (its kafkastore): its own principal gets that topic and its group, nobody else
    gets the topic, and the embedded registry's principal gets nothing."""
    settings = load_settings(
        data_dir=tmp_path,
        schema_registry_url="http://schema-registry:8081",
        schema_registry_topic="_schemas_hub",
    )
    catalogue = build_catalogue(settings)
    bindings = render_acls(catalogue)
    assert catalogue.external_schema_store == "_schemas_hub"
    assert topic_grants(bindings, SCHEMA_REGISTRY_PRINCIPAL) == {
        "_schemas_hub": {
            Operation.CREATE,
            Operation.DESCRIBE,
            Operation.DESCRIBE_CONFIGS,
            Operation.READ,
            Operation.WRITE,
        }
    }
    groups = {
        (b.resource_name, b.operation)
        for b in bindings
        if b.principal == f"User:{SCHEMA_REGISTRY_PRINCIPAL}"
        and b.resource_type is ResourceType.GROUP
    }
    assert groups == {(SCHEMA_REGISTRY_GROUP, Operation.READ)}
    assert all(b.resource_type is not ResourceType.CLUSTER for b in bindings)
    assert {b.principal for b in bindings if b.resource_name == "_schemas_hub"} == {
        f"User:{SCHEMA_REGISTRY_PRINCIPAL}"
    }
    assert "registry" not in principals(bindings)
    assert "_schemas_hub" not in catalogue.names()  # not created by `topics apply`


def test_script_and_json(bindings: list[AclBinding]) -> None:
    script = to_kafka_acls_script(bindings)
    lines = [line for line in script.splitlines() if line.startswith('"$KAFKA_ACLS"')]
    assert lines
    inbox = next(
        line for line in lines if "--topic rmt.partner.uwv.inbox" in line and "User:uwv" in line
    )
    assert "--operation Describe --operation Read" in inbox
    assert inbox.endswith("--resource-pattern-type literal")
    assert "set -eu" in script
    assert "${COMMAND_CONFIG:?" in script
    rows = json.loads(to_json(bindings))
    assert len(rows) == len(bindings)
    assert rows[0].keys() == {
        "principal",
        "resource_type",
        "pattern_type",
        "resource_name",
        "operation",
        "permission",
        "host",
    }
