"""Apache Kafka as the hub starts it: the launcher, and the guarantees the hub uses.

The launcher tests start nodes of their own; the guarantee tests (compaction of the
catalogue's compacted topics, correct end offsets) use the session broker and need it
to be Apache Kafka (the CI run is; ``HUB_EMBEDDED_BROKER=tansu`` runs elsewhere skip).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from hub.broker import choose_broker
from hub.broker._process import pid_listens_on
from hub.broker.apache import KafkaBroker
from hub.config import HubSettings, load_settings
from hub.errors import BrokerStartError
from hub.kafka import admin_client, create_topics, producer
from hub.kafka.config import kafka_python_config
from tests.helpers.waiting import wait_until
from tests.integration.helpers.procs import alive, port_of, refuses
from topics.apply import apply_to_cluster
from topics.catalogue import CleanupPolicy, build_catalogue

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[KafkaBroker]:
    with KafkaBroker(data_dir=tmp_path / "kafka", log_path=tmp_path / "broker.log") as started:
        yield started


def _read_all(bootstrap: str, topic: str, partitions: int = 1) -> list[tuple[bytes, bytes | None]]:
    reader = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3_000
    )
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        return [(r.key, r.value) for r in reader]
    finally:
        reader.close()


def _settings_on(bootstrap: str, tmp_path: Path) -> HubSettings:
    return load_settings(bootstrap_servers=bootstrap, data_dir=tmp_path / "client")


# --- the launcher ---------------------------------------------------------------------------


def test_a_node_keeps_its_data_when_killed_and_restarted(node: KafkaBroker, tmp_path: Path) -> None:
    address = node.bootstrap_servers
    assert pid_listens_on(node.pid or 0, port_of(address)) is True
    settings = _settings_on(address, tmp_path)
    admin = admin_client(settings)
    try:
        create_topics(admin, [NewTopic("kept", 1, 1)])
    finally:
        admin.close()
    writer = producer(settings)
    for i in range(5):
        writer.send("kept", key=f"k{i}".encode(), value=f"v{i}".encode())
    writer.flush()
    writer.close()
    old_pid = node.pid
    node.kill()
    assert old_pid is not None
    wait_until(
        lambda: not alive(old_pid),
        timeout_s=10.0,
        what="the broker process is gone",
        interval_s=0.02,
    )
    assert node.restart() == address  # same address, so clients need no new bootstrap
    assert node.pid != old_pid
    assert [v for _, v in _read_all(address, "kept")] == [f"v{i}".encode() for i in range(5)]


def test_stop_is_clean_and_the_port_is_released(node: KafkaBroker) -> None:
    address, pid = node.bootstrap_servers, node.pid
    assert pid is not None
    node.stop()
    assert not alive(pid)
    assert refuses(address)
    assert "shut down completely" in (node.log_path or Path()).read_text()


def test_a_broker_that_cannot_start_says_why(tmp_path: Path) -> None:
    broken = KafkaBroker(
        data_dir=tmp_path / "kafka",
        log_path=tmp_path / "broker.log",
        properties={"num.io.threads": "none"},
    )
    with pytest.raises(BrokerStartError) as failure:
        broken.start()
    assert "num.io.threads" in str(failure.value)
    assert not broken.running


def test_the_jvm_dies_with_its_parent(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: a SIGKILLed parent leaves no broker behind."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from hub.broker.apache import KafkaBroker\n"
        "b = KafkaBroker(data_dir=Path(sys.argv[1]))\n"
        "b.start()\n"
        "print(b.bootstrap_servers, b.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "kafka")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        address, pid = parent.stdout.readline().split()
        assert alive(int(pid))
    finally:
        parent.kill()
        parent.wait()
    wait_until(
        lambda: not alive(int(pid)),
        timeout_s=20.0,
        what="the broker process is gone",
        interval_s=0.02,
    )
    assert refuses(address)


# --- guarantees the hub uses on Apache Kafka ------------------------------------------------


@pytest.fixture
def on_kafka(hub_settings: HubSettings) -> HubSettings:
    started = load_settings()
    if started.bootstrap_servers is None and choose_broker(started).kind == "tansu":
        pytest.skip("the session broker is Tansu, which does not compact")
    return hub_settings


def test_a_compacted_inbox_drops_a_tombstoned_subjects_records(on_kafka: HubSettings) -> None:
    settings = on_kafka.model_copy(update={"topic_prefix": f"c{uuid.uuid4().hex[:8]}"})
    catalogue = build_catalogue(settings)
    inbox = catalogue.inboxes()[0]
    assert inbox.cleanup_policy is CleanupPolicy.COMPACT_DELETE
    apply_to_cluster(settings, catalogue)
    admin = admin_client(settings)
    try:  # quick cleaning for the test: tiny segments, any dirt is worth cleaning
        admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC,
                    inbox.name,
                    configs={
                        "segment.ms": "100",
                        "min.cleanable.dirty.ratio": "0.001",
                        "delete.retention.ms": "100",
                        "min.compaction.lag.ms": "0",
                    },
                )
            ],
            incremental=True,
        )
    finally:
        admin.close()
    writer = producer(settings)
    for round_ in range(3):
        for subject in (b"psn-erased", b"psn-kept"):
            writer.send(inbox.name, key=subject, value=b"profile %d" % round_, partition=0)
    writer.send(inbox.name, key=b"psn-erased", value=None, partition=0)  # erasure tombstone
    writer.flush()
    deadline = time.monotonic() + 90
    while True:  # each new record rolls the old segment, which the cleaner then compacts
        writer.send(inbox.name, key=b"psn-tick", value=b"tick", partition=0)
        writer.flush()
        held = _read_all(settings.bootstrap_servers or "", inbox.name, inbox.partitions)
        erased = [v for k, v in held if k == b"psn-erased" and v is not None]
        if not erased:
            break
        assert time.monotonic() < deadline, f"not compacted: {erased}"
        time.sleep(1.0)
    writer.close()
    assert [v for k, v in held if k == b"psn-kept"] == [b"profile 2"]


def test_end_offsets_are_the_high_watermarks(on_kafka: HubSettings, topic_factory: object) -> None:
    """Tansu answered end_offsets() wrongly, so the hub reads high watermarks from fetch
    responses; on Apache Kafka the two agree, record for record."""
    assert callable(topic_factory)
    topic = topic_factory(partitions=3)
    writer = producer(on_kafka)
    sent = {0: 4, 1: 0, 2: 7}
    for partition, count in sent.items():
        for i in range(count):
            writer.send(topic, value=b"%d" % i, partition=partition)
    writer.flush()
    writer.close()
    reader = KafkaConsumer(**kafka_python_config(on_kafka))
    try:
        tps = [TopicPartition(topic, p) for p in sent]
        assert reader.end_offsets(tps) == {TopicPartition(topic, p): n for p, n in sent.items()}
    finally:
        reader.close()
