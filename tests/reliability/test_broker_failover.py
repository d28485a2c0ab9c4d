"""Apache Kafka brokers killed under the hub: one node mid-stream, then the whole cluster.

A three-node KRaft cluster (:class:`hub.broker.apache.KafkaCluster`) holds the catalogue at
replication factor 3 with ``min.insync.replicas=2``; a schema registry and router workers
run on it.

* **Failover**: partners publish a stream (``scale.pick(800, 30_000)`` records, the
  fault suite's mix: three consent groups, invalid records, second copies, arrangements)
  while subjects' consents were withdrawn or granted just before it. When a fifth is
  routed, the node leading the busiest outbox partition is SIGKILLed; once every
  partition has a leader again it is restarted. The workers carry on (the same
  processes, none died), every partition's ISR is back to 3, and by event id: every
  valid record reached each entitled inbox exactly once and no other, one audit entry
  per delivery, every invalid record and copy dead-lettered once. The consent state
  the workers hold is the one from before the kill, and a worker that joins afterwards
  (loading everything afresh from the restarted cluster) holds the same; records
  published then still respect the withdrawals and grants.
* **Whole-cluster restart**: after routing a stream, every node is stopped (SIGTERM)
  or killed (SIGKILL) and the cluster started again from its data: every record of every
  topic is still there, byte for byte, the continuity marker says intact ("no loss"),
  and the router worker, alive throughout, routes what is published afterwards.

Seeded: ``RMT_FAULT_SEED=<seed>`` replays a run's stream shape and timings.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic

from hub.broker.apache import KafkaCluster
from hub.config import HubSettings, load_settings
from hub.continuity import ContinuityGuard, Verdict
from hub.kafka import admin_client, consumer, create_topics, producer
from hub.registry.embedded import EmbeddedRegistry
from hub.router.runtime import RouterProcess
from schemas.vocabulary import DataCategory, Purpose
from tests.plugins.hub import make_hub
from tests.plugins.reliability import Scale
from tests.reliability.delivery import (
    GROUPS,
    Stream,
    add_arrangements,
    check_audit,
    check_audit_chain,
    check_dead_letters,
    check_inboxes,
    chunks,
    grant_groups,
    make_stream,
    partner_ids,
)
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, Publication
from tests.router.helpers.workers import consent_state, routed, wait_caught_up, wait_split

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

NODES = 3
RECIPIENT = "gemeente-utrecht"
PROFILE_CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
)
# Apache Kafka refuses group sessions under 6 s (group.min.session.timeout.ms)
WORKER_OPTIONS: dict[str, Any] = {"session_timeout_s": 6.0, "heartbeat_interval_s": 1.0}


# --- the cluster ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """Three Apache Kafka nodes, one quorum (defaults: RF 3, min.insync.replicas 2)."""
    with KafkaCluster(data_dir=tmp_path_factory.mktemp("cluster"), size=NODES) as started:
        yield started


@pytest.fixture(scope="module")
def cluster_settings(
    cluster: KafkaCluster, tmp_path_factory: pytest.TempPathFactory
) -> HubSettings:
    data_dir = tmp_path_factory.mktemp("hub-data")
    return load_settings(data_dir=data_dir, replication_factor=NODES).with_bootstrap(
        cluster.bootstrap_servers
    )


@pytest.fixture(scope="module")
def cluster_registry(cluster_settings: HubSettings) -> Iterator[str]:
    with EmbeddedRegistry(cluster_settings, port=0) as registry:
        yield registry.url


@pytest.fixture
def hub(cluster_settings: HubSettings, cluster_registry: str, tmp_path: Path) -> Iterator[Hub]:
    made = make_hub(cluster_settings, cluster_registry, tmp_path)
    try:
        yield made
    finally:
        made.close()


def partitions(admin: KafkaAdminClient) -> dict[tuple[str, int], dict[str, Any]]:
    """Every partition of the cluster (internal topics too): its leader and ISR."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for topic in admin.describe_topics(sorted(admin.list_topics())):
        for part in topic.get("partitions") or ():
            found[(topic["name"], part["partition_index"])] = part
    return found


def wait_until(
    check: Callable[[], str | None], *, timeout_s: float, alive: Callable[[], None]
) -> None:
    """Until ``check`` returns None (it returns what is still wrong)."""
    deadline = time.monotonic() + timeout_s
    wrong = check()
    while wrong is not None:
        alive()
        assert time.monotonic() < deadline, f"after {timeout_s:.0f}s: {wrong}"
        time.sleep(0.5)
        wrong = check()


def led_by(admin: KafkaAdminClient, node: int) -> str | None:
    """What is still led by ``node`` or leaderless (None: nothing)."""
    stuck = [
        f"{topic}/{p}"
        for (topic, p), part in partitions(admin).items()
        if part["leader_id"] in (node, -1)
    ]
    return f"{len(stuck)} partitions without a new leader, e.g. {stuck[:3]}" if stuck else None


def short_isr(admin: KafkaAdminClient) -> str | None:
    """The partitions whose ISR is not all nodes (None: none)."""
    short = {
        f"{topic}/{p}": sorted(part["isr_nodes"])
        for (topic, p), part in partitions(admin).items()
        if len(part["isr_nodes"]) != NODES
    }
    return (
        f"{len(short)} partitions with ISR short of {NODES}: {dict(list(short.items())[:3])}"
        if short
        else None
    )


def busiest_outbox_partition(hub: Hub) -> TopicPartition:
    """The outbox partition holding the most records (Apache Kafka's end offsets are exact)."""
    tps = [
        TopicPartition(t.name, p)
        for t in hub.catalogue.outboxes()
        for p in range(hub.settings.topic_partitions)
    ]
    reader = consumer(hub.settings, group_id=None)
    try:
        ends: dict[TopicPartition, int] = reader.end_offsets(tps)
    finally:
        reader.close()
    return max(tps, key=lambda tp: ends[tp])


def leader_of(admin: KafkaAdminClient, tp: TopicPartition) -> int:
    leader: int = partitions(admin)[(tp.topic, tp.partition)]["leader_id"]
    return leader


# --- the publisher ------------------------------------------------------------------------


def kill_all_and_start(cluster: KafkaCluster) -> None:
    """SIGKILL every node, then start the cluster again from its data."""
    for node in cluster.nodes:
        node.kill()
    cluster.stop()  # reaps the killed processes
    cluster.start()


def test_regression_a_publisher_gave_up_while_leaders_moved(
    cluster: KafkaCluster, cluster_settings: HubSettings
) -> None:
    """hub.kafka's producers (the SDK's among them) retried five times, 100 ms apart. After
    the whole cluster was killed and started again, partitions' leaders moved while the
    nodes came back, and a producer from before sent to former leaders: five
    NotLeaderForPartitionError answers and the records were given up. They must follow
    the leaders (up to the delivery timeout) and deliver every record once, in order."""
    topic = f"failover-{uuid.uuid4().hex[:8]}"
    partitions = 4
    admin = admin_client(cluster_settings)
    writer = producer(cluster_settings, enable_idempotence=True, linger_ms=0)  # as the SDK's
    try:
        create_topics(admin, [NewTopic(topic, partitions, NODES)])
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        for tp in tps:  # every leader is known from here on
            writer.send(topic, value=b"0", partition=tp.partition).get(timeout=60)
    finally:
        admin.close()
    try:
        kill_all_and_start(cluster)
        futures = [
            writer.send(topic, value=str(n).encode(), partition=n % partitions)
            for n in range(1, 400)
        ]
        writer.flush(timeout=120)
        failed = [f.exception for f in futures if f.failed()]
        assert not failed, f"{len(failed)} of {len(futures)} sends failed, e.g. {failed[:2]}"
    finally:
        writer.close(timeout=5)
    reader = consumer(cluster_settings, group_id=None)
    try:
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        values: dict[int, list[bytes]] = {p: [] for p in range(partitions)}
        deadline = time.monotonic() + 60
        while sum(map(len, values.values())) < 400 + partitions - 1:
            assert time.monotonic() < deadline, values
            for tp, batch in reader.poll(timeout_ms=200).items():
                values[tp.partition] += [r.value for r in batch]
    finally:
        reader.close()
    for p in range(partitions):
        wanted = [b"0", *(str(n).encode() for n in range(1, 400) if n % partitions == p)]
        assert values[p] == wanted


# --- failover ---------------------------------------------------------------------------------


def consent_changes(hub: Hub, count: int) -> tuple[list[str], list[str]]:
    """``count`` subjects whose consent to the recipient is withdrawn, and ``count`` granted
    one now (acknowledged before anything about them is published)."""
    withdrawn = [records.subject() for _ in range(count)]
    granted = [records.subject() for _ in range(count)]
    given = [
        hub.grant(
            who, to=[RECIPIENT], purposes=[Purpose.ARRANGEMENT], categories=PROFILE_CATEGORIES
        )
        for who in withdrawn
    ]
    for consent in given:
        hub.withdraw(consent)
    for who in granted:
        hub.grant(
            who, to=[RECIPIENT], purposes=[Purpose.ARRANGEMENT], categories=PROFILE_CATEGORIES
        )
    return withdrawn, granted


def about(
    stream: Stream, withdrawn: list[str], granted: list[str], per_subject: int
) -> list[Publication]:
    """Profiles from UWV about the changed subjects: only the granted ones' are delivered."""
    items = []
    for who in withdrawn + granted:
        for _ in range(per_subject):
            record = records.profile(who)
            items.append(Publication(record))
            stream.entitled[str(record.event_id)] = {RECIPIENT} if who in granted else set()
    return items


class Publisher:
    """Publishes items in chunks at about ``rate`` records/s in a thread."""

    def __init__(self, hub: Hub, items: list[Publication], rate: float) -> None:
        self.hub, self.items, self.rate = hub, items, rate
        self.published = 0
        self.failed: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name="publisher", daemon=True)

    def start(self) -> Publisher:
        self.thread.start()
        return self

    def _run(self) -> None:
        began = time.monotonic()
        try:
            for chunk in chunks(self.items, 100):
                self.published += self.hub.publish_many(chunk)
                ahead = self.published / self.rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
        except BaseException as exc:  # re-raised in the test's thread
            self.failed.append(exc)

    def alive(self) -> None:
        assert not self.failed, self.failed

    def join(self, timeout_s: float) -> None:
        self.thread.join(timeout=timeout_s)
        assert not self.thread.is_alive(), f"publishing did not finish in {timeout_s:.0f}s"
        self.alive()


def check_workers(workers: list[RouterProcess]) -> None:
    """Every worker is the process it was (none died or was replaced)."""
    for worker in workers:
        assert worker.running, worker.exit_message("router worker")


@pytest.mark.timeout(3600)
def test_sigkill_of_the_busiest_partitions_leader_loses_and_duplicates_nothing(
    cluster: KafkaCluster, hub: Hub, scale: Scale
) -> None:
    seed = int(os.environ.get("RMT_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    size = scale.pick(800, 30_000)
    print(f"\nbroker failover ({scale.name}): seed {seed} (RMT_FAULT_SEED={seed} replays it)")
    subjects = {g: [records.subject() for _ in range(scale.pick(30, 300))] for g in GROUPS}
    grant_groups(hub, subjects)
    withdrawn, granted = consent_changes(hub, scale.pick(5, 20))
    stream = make_stream(rng, size, subjects)
    add_arrangements(rng, stream, subjects, max(4, size // 500))
    changed = about(stream, withdrawn, granted, 3)
    for item in changed:
        stream.items.insert(rng.randrange(len(stream.items) + 1), item)

    workers = [hub.worker(f"w{n}", **WORKER_OPTIONS) for n in range(1, scale.pick(1, 2) + 1)]
    wait_split(hub, *workers, timeout_s=120)
    admin = admin_client(hub.settings)
    # paced so that publishing goes on through the kill and the election
    publisher = Publisher(hub, stream.items, rate=scale.pick(60, 300)).start()

    def alive() -> None:
        publisher.alive()
        check_workers(workers)

    try:
        wait_until(
            lambda: None if routed(workers) >= size / 5 else f"{routed(workers)} routed",
            timeout_s=scale.pick(180, 900),
            alive=alive,
        )
        before = consent_state(*workers)
        busiest = busiest_outbox_partition(hub)
        victim = leader_of(admin, busiest)
        cluster.node(victim).kill()
        print(
            f"  SIGKILL node {victim}, leader of {busiest.topic}/{busiest.partition}, at "
            f"{routed(workers)} routed, {publisher.published} published"
        )
        wait_until(lambda: led_by(admin, victim), timeout_s=120, alive=alive)
        time.sleep(rng.uniform(0.0, 3.0))
        cluster.node(victim).restart()
        print(f"  node {victim} restarted at {routed(workers)} routed")
        publisher.join(timeout_s=scale.pick(300, 1200))
        wait_caught_up(hub, workers, timeout_s=scale.pick(300, 1800))
        check_workers(workers)
        wait_until(lambda: short_isr(admin), timeout_s=180, alive=alive)
        assert consent_state(*workers) == before

        # a worker joining now loads every partition afresh from the restarted cluster
        joined = hub.worker("joined", **WORKER_OPTIONS)
        wait_split(hub, *workers, joined, timeout_s=180, each_some=False)
        assert consent_state(*workers, joined) == before
        after = about(stream, withdrawn, granted, 1)
        hub.publish_many(after)
        wait_caught_up(hub, [*workers, joined], timeout_s=scale.pick(180, 600))
        check_workers([*workers, joined])
    except AssertionError as exc:
        raise AssertionError(f"seed {seed}: {exc}") from exc
    finally:
        admin.close()

    everyone: Counter[str] = Counter()
    for partner in partner_ids(hub):
        everyone += stream.deliveries(partner)
    read_s = scale.pick(120, 600)
    problems = check_inboxes(hub, stream, read_s)
    problems += check_audit(hub, everyone, read_s)
    problems += check_audit_chain(hub, read_s)
    problems += check_dead_letters(hub, stream, read_s)
    print(
        f"  {len(stream.items) + len(after)} records, {sum(everyone.values())} deliveries, "
        f"{len(withdrawn)} withdrawn and {len(granted)} granted subjects"
    )
    assert not problems, f"seed {seed}:\n" + "\n".join(problems)


# --- whole-cluster restart ----------------------------------------------------------------


def contents(hub: Hub, read_s: float) -> dict[str, list[tuple[int, int, str]]]:
    """Every record of every catalogue topic: (partition, offset, hash of the bytes)."""
    return {
        topic: [
            (r.partition, r.offset, hashlib.sha256(r.raw or b"").hexdigest())
            for r in hub.read(topic, decode=False, timeout_s=read_s)
        ]
        for topic in hub.catalogue.names()
    }


@pytest.mark.timeout(3600)
def test_whole_cluster_restart_keeps_every_record_and_says_no_loss(
    cluster: KafkaCluster, hub: Hub, scale: Scale
) -> None:
    rng = random.Random(int(os.environ.get("RMT_FAULT_SEED") or 7))
    guard = ContinuityGuard(hub.settings)
    assert guard.establish().verdict is Verdict.FIRST_RUN
    subjects = {g: [records.subject() for _ in range(scale.pick(20, 200))] for g in GROUPS}
    grant_groups(hub, subjects)
    stream = make_stream(rng, scale.pick(300, 6_000), subjects)
    worker = hub.worker("w1", **WORKER_OPTIONS)
    wait_split(hub, worker, timeout_s=120)
    read_s = scale.pick(60, 300)
    # the short size stops it only: the regression test above kills it
    ways = ("stop", "sigkill") if scale.full else ("stop",)
    parts = [stream.items[n :: len(ways) + 1] for n in range(len(ways) + 1)]
    for how, part in zip(ways, parts, strict=False):
        hub.publish_many(part)
        wait_caught_up(hub, [worker], timeout_s=scale.pick(180, 900))
        kept = contents(hub, read_s)
        print(f"  whole cluster {'stopped' if how == 'stop' else 'killed'}; starting it again")
        if how == "stop":
            cluster.stop()
            cluster.start()
        else:
            kill_all_and_start(cluster)
        check_workers([worker])
        report = guard.check()
        assert report.verdict is Verdict.INTACT, report.message()
        assert contents(hub, read_s) == kept
    hub.publish_many(parts[-1])  # the worker, alive throughout, routes what comes next
    wait_caught_up(hub, [worker], timeout_s=scale.pick(180, 900))
    check_workers([worker])
    everyone: Counter[str] = Counter()
    for partner in partner_ids(hub):
        everyone += stream.deliveries(partner)
    problems = check_inboxes(hub, stream, read_s)
    problems += check_audit(hub, everyone, read_s)
    problems += check_dead_letters(hub, stream, read_s)
    assert not problems, "\n".join(problems)
