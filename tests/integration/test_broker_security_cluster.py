"""A secured three-node KafkaCluster with what production deploys: deploy/kafka/gen-secrets.sh's
certificates (its DN layout, mapped to the brokers' super-user principals by the rule of
hub/broker/secure.py) and SCRAM passwords, the ACLs of ``rmt-hub acls render``. One test:
starting three secured JVMs is slow on two cores. The single-node module
(test_broker_security.py) checks the ACLs one by one.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourceType
from kafka.protocol.admin import DescribeAclsRequest

from hub.broker import distribution
from hub.broker.apache import KafkaCluster
from hub.broker.overlay import secrets_pki
from hub.broker.secure import SecuredBrokers, broker_principal
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
from hub.security.acls import principals, render_acls
from hub.security.kafka_acls import create_acls
from topics import Action, apply_to_cluster, build_catalogue
from topics.catalogue import OPERATOR_PRINCIPAL, ROUTER_PRINCIPAL

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        distribution.find_java() is None, reason="the secured broker is Apache Kafka: needs Java"
    ),
]

GEN_SECRETS = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "gen-secrets.sh"
PARTNER = "uwv"
OTHER = "gemeente-amsterdam"
NODES = 3
_WAIT_S = 120.0


def gen_secrets(out: Path, listed: list[str], brokers: list[str]) -> dict[str, str]:
    """Run gen-secrets.sh into ``out``; the SCRAM passwords it wrote, per principal."""
    principals_file = out.parent / "principals.txt"
    principals_file.write_text("".join(f"{p}\n" for p in listed))
    subprocess.run(
        ["sh", str(GEN_SECRETS), str(out)],
        env={
            "PATH": os.environ["PATH"],
            "PRINCIPALS_FILE": str(principals_file),
            "BROKERS": " ".join(brokers),
            "KAFKA_UID": str(os.getuid()),
        },
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {p: (out / "scram" / p).read_text().strip() for p in listed}


def acl_count_on(admin: KafkaAdminClient, node_id: int) -> int:
    """How many ACLs broker ``node_id`` itself serves (each broker follows the metadata
    log on its own, so one broker showing an ACL says nothing of the others)."""
    request = DescribeAclsRequest(
        resource_type_filter=ResourceType.ANY,
        resource_name_filter=None,
        pattern_type_filter=ACLResourcePatternType.ANY,
        principal_filter=None,
        host_filter=None,
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
    )
    manager: Any = admin._manager  # no public way to ask one given broker
    response = manager.run(manager.send, request, node_id)
    acls, _ = admin._convert_describe_acls_response_to_acls(response)
    return len(acls)


def wait_for_acls(admin: KafkaAdminClient, expected: int) -> None:
    deadline = time.monotonic() + _WAIT_S
    for node_id in range(1, NODES + 1):
        while acl_count_on(admin, node_id) != expected:
            assert time.monotonic() < deadline, f"broker {node_id} never served the ACLs"
            time.sleep(0.2)


def write(settings: HubSettings, topic: str, value: bytes) -> None:
    prod = producer(settings, max_block_ms=60_000)
    try:
        with kafka_errors(f"writing to {topic}"):
            prod.send(topic, value, key=b"k").get(timeout=60)
    finally:
        discard_producer(prod)


def read_first(settings: HubSettings, topic: str, group: str | None = None) -> bytes:
    reader = consumer(settings, group_id=group, fetch_max_wait_ms=50)
    tp = TopicPartition(topic, 0)
    try:
        with kafka_errors(f"reading {topic}"):
            reader.assign([tp])
            reader.seek_to_beginning(tp)
            deadline = time.monotonic() + _WAIT_S
            while not (records := reader.poll(timeout_ms=200).get(tp)):
                check_authorized(reader, f"reading {topic}")
                assert time.monotonic() < deadline, f"{topic}: neither a record nor a refusal"
            if group is not None:
                reader.commit()
            value: bytes = records[0].value
            return value
    finally:
        reader.close()


@pytest.mark.timeout(1200)
def test_a_partner_on_a_secured_cluster_from_gen_secrets(tmp_path: Path) -> None:
    base = load_settings(
        _env_file=None, data_dir=tmp_path / "hub", topic_partitions=1, replication_factor=NODES
    )
    catalogue = build_catalogue(base)
    bindings = render_acls(catalogue)
    brokers = [broker_principal(i) for i in range(1, NODES + 1)]
    secrets = tmp_path / "secrets"
    credentials = gen_secrets(secrets, principals(bindings), brokers)
    security = SecuredBrokers.issued(secrets_pki(secrets, brokers), credentials, nodes=NODES)
    cluster = KafkaCluster(
        data_dir=tmp_path / "kafka", size=NODES, security=security, ready_timeout_s=600
    )
    settings = base.with_bootstrap(cluster.start())  # the quorum formed over mTLS
    try:
        admin = admin_client(security.as_broker(settings, 1))  # a super user by its CN
        try:
            create_acls(admin, bindings)
            wait_for_acls(admin, len(bindings))
        finally:
            admin.close()
        as_ = security.client
        report = apply_to_cluster(as_(settings, OPERATOR_PRINCIPAL), catalogue)
        assert report.count(Action.CREATE) == len(catalogue)

        inbox, outbox = catalogue.inbox(PARTNER).name, catalogue.outbox(PARTNER).name
        write(as_(settings, PARTNER), outbox, b"from the partner")
        assert read_first(as_(settings, ROUTER_PRINCIPAL), outbox) == b"from the partner"
        write(as_(settings, ROUTER_PRINCIPAL), inbox, b"for the partner")
        group = f"{catalogue.prefix}.sdk.{PARTNER}"
        assert read_first(as_(settings, PARTNER), inbox, group) == b"for the partner"

        other = catalogue.inbox(OTHER).name
        write(as_(settings, ROUTER_PRINCIPAL), other, b"not for the partner")
        with pytest.raises(BrokerAuthorizationError, match=f"not authorized for topic {other}"):
            read_first(as_(settings, PARTNER), other)
    finally:
        cluster.stop()
