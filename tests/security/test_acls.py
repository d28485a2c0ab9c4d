"""ACLs rendered from the topic catalogue give each principal exactly its own topics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import load_settings
from hub.security.acls import (
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
from topics.catalogue import TopicCatalogue
from topics.partners import load_partners

READ = {Operation.READ, Operation.DESCRIBE}
WRITE = {Operation.WRITE, Operation.DESCRIBE}


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


def test_monitor_reads_the_monitor_topic_only(
    catalogue: TopicCatalogue, bindings: list[AclBinding]
) -> None:
    assert topic_grants(bindings, "monitor") == {catalogue.monitor_events.name: READ}


def test_hub_gets_what_the_catalogue_says(
    catalogue: TopicCatalogue, bindings: list[AclBinding]
) -> None:
    grants = topic_grants(bindings, "hub")
    for topic in catalogue:
        expected: set[Operation] = set()
        if "hub" in topic.readers:
            expected |= READ
        if "hub" in topic.writers:
            expected |= WRITE
        assert expected <= grants.get(topic.name, set()), topic.name
    assert Operation.READ not in grants[catalogue.monitor_events.name]


def test_no_wildcards_and_no_everyone(bindings: list[AclBinding]) -> None:
    assert all(b.resource_name not in {"*", ""} for b in bindings)
    assert all(b.principal != "User:*" and b.permission == "Allow" for b in bindings)
    assert principals(bindings)[:3] == [
        "gemeente-amsterdam",
        "gemeente-rotterdam",
        "gemeente-tilburg",
    ]
    assert {"hub", "monitor", "uwv"} <= set(principals(bindings))


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
