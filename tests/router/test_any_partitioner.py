"""Any Kafka client can publish: records on any partition of an outbox are routed.

Stock confluent-kafka (librdkafka: crc32 "consistent_random" by default), kafka-python and
aiokafka producers, with nothing configured but the bootstrap servers, publish valid
records to UWV's outbox through a real router worker on the real broker; every record is
delivered exactly once, in the order its subject's records were published, with record
security off and on (sealed with the partner SDK's security, then sent as plain bytes by
the stock client). A record published to another partition than its key hashes to is
moved to that partition of the repartition topic first
(docs/decisions/0015-partition-agnostic-inbound.md).
"""

from __future__ import annotations

import asyncio
import zlib
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from aiokafka import AIOKafkaProducer
from confluent_kafka import Producer as CkProducer
from kafka import KafkaProducer

from hub.config import HubSettings
from hub.ids import ClientPseudonym
from hub.router.repartition import MOVED_FROM
from hub.router.validation import partition_of
from hub.sdk.security import partner_security
from hub.serde.canonical import cloud_event_headers
from schemas.models import ClientProfile, DeadLetter
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import DataCategory, Purpose
from tests.plugins.hub import own_hub
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, Received, delivered_ids
from tests.router.helpers.workers import wait_caught_up

pytestmark = pytest.mark.integration

GEMEENTE = "gemeente-amsterdam"
CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
)
Sent = tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]
"""(topic, key, value, headers) as a partner sends it."""


@pytest.fixture(scope="module", params=["security-on", "security-off"])
def hub(
    request: pytest.FixtureRequest,
    hub_settings: HubSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    """A hub of its own with one router worker, record security on or off."""
    with own_hub(
        hub_settings,
        tmp_path_factory.mktemp("any-partitioner"),
        "anyp",
        security_enabled=request.param == "security-on",
    ) as made:
        made.worker().wait_ready(60, partitions=made.settings.topic_partitions)
        yield made


def crc32_partition(key: bytes, partitions: int) -> int:
    """Where librdkafka's default partitioner (consistent_random) puts a keyed record."""
    return zlib.crc32(key) % partitions


def subjects(hub: Hub, count: int) -> list[ClientPseudonym]:
    """``count`` consented subjects, half of them with a key librdkafka puts on another
    partition than murmur2 does."""
    n = hub.settings.topic_partitions
    moved: list[ClientPseudonym] = []
    kept: list[ClientPseudonym] = []
    while len(moved) < count - count // 2 or len(kept) < count // 2:
        who = records.subject()
        key = who.encode()
        same = crc32_partition(key, n) == partition_of(key, n)
        (kept if same else moved).append(who)
    picked = moved[: count - count // 2] + kept[: count // 2]
    for who in picked:
        hub.grant(who, to=[GEMEENTE], purposes=[Purpose.ARRANGEMENT], categories=CATEGORIES)
    return picked


def outgoing(hub: Hub, record: ClientProfile) -> Sent:
    """What UWV sends for ``record``: the Confluent wire format and CloudEvents headers;
    with record security on, encrypted to the hub and signed with UWV's key by the SDK's
    security (:func:`hub.sdk.security.partner_security`)."""
    topic = hub.catalogue.outbox("uwv").name
    key = record.client_pseudonym.encode()
    value: bytes | None = hub.codec.encode(record, topic)
    headers = list(cloud_event_headers(record))
    if hub.security:
        value, headers = partner_security(hub.settings, "uwv").seal_outbound(
            topic=topic, key=key, value=value, headers=headers
        )
    return topic, key, value, headers


def send_confluent(hub: Hub, sends: list[Sent]) -> list[tuple[bytes, int]]:
    producer = CkProducer({"bootstrap.servers": hub.settings.bootstrap_servers})
    placed: list[tuple[bytes, int]] = []
    errors: list[object] = []

    def report(err: object, msg: object) -> None:
        if err is not None:
            errors.append(err)
        else:
            placed.append((msg.key(), msg.partition()))  # type: ignore[attr-defined]

    for topic, key, value, headers in sends:
        sent: list[tuple[str, str | bytes | None]] = list(headers)
        producer.produce(topic, key=key, value=value, headers=sent, on_delivery=report)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert not errors, errors
    return placed


def send_kafka_python(hub: Hub, sends: list[Sent]) -> list[tuple[bytes, int]]:
    producer = KafkaProducer(bootstrap_servers=hub.settings.bootstrap_servers)
    try:
        futures = [
            producer.send(topic, key=key, value=value, headers=headers)
            for topic, key, value, headers in sends
        ]
        producer.flush(30)
        return [
            (key, f.get(timeout=15).partition)
            for (_, key, _, _), f in zip(sends, futures, strict=True)
        ]
    finally:
        producer.close(timeout=5)


def send_aiokafka(hub: Hub, sends: list[Sent]) -> list[tuple[bytes, int]]:
    async def run() -> list[tuple[bytes, int]]:
        producer = AIOKafkaProducer(bootstrap_servers=hub.settings.bootstrap_servers)
        await producer.start()
        try:
            futures = [
                await producer.send(topic, key=key, value=value, headers=headers)
                for topic, key, value, headers in sends
            ]
            return [
                (key, (await f).partition) for (_, key, _, _), f in zip(sends, futures, strict=True)
            ]
        finally:
            await producer.stop()

    return asyncio.run(run())


CLIENTS: dict[str, Callable[[Hub, list[Sent]], list[tuple[bytes, int]]]] = {
    "confluent-kafka": send_confluent,
    "kafka-python": send_kafka_python,
    "aiokafka": send_aiokafka,
}


def publish_and_route(
    hub: Hub, client: str, count: int = 8
) -> tuple[list[ClientProfile], list[tuple[bytes, int]], list[Received]]:
    """Two profiles per subject (a first version, then a second) sent by ``client``; waits
    until the router has routed everything; (profiles, placements, gemeente's inbox)."""
    who = subjects(hub, count)
    profiles = [records.profile(w) for w in who] + [records.profile(w) for w in who]
    placed = CLIENTS[client](hub, [outgoing(hub, p) for p in profiles])
    assert len(placed) == len(profiles)
    wait_caught_up(hub, hub.workers, timeout_s=120)
    return profiles, placed, hub.inbox(GEMEENTE, timeout_s=60)


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_stock_producer_with_default_settings_gets_every_valid_record_routed_once(
    hub: Hub, client: str
) -> None:
    profiles, placed, inbox = publish_and_route(hub, client)
    n = hub.settings.topic_partitions
    if client == "confluent-kafka":  # the case in point: crc32, not murmur2
        assert all(p == crc32_partition(k, n) for k, p in placed)
        assert any(p != partition_of(k, n) for k, p in placed)
    else:
        assert all(p == partition_of(k, n) for k, p in placed)

    sent = {str(p.event_id) for p in profiles}
    counts = Counter(i for i in delivered_ids(inbox) if i in sent)
    assert counts == dict.fromkeys(sent, 1)  # every record delivered, and once
    for got in inbox:
        if got.record is not None and str(getattr(got.record, "event_id", "")) in sent:
            key = got.key or b""
            assert got.partition == partition_of(key, n)  # where its subject's consents are
            assert MOVED_FROM not in got.headers
    # each subject's second profile after its first
    half = len(profiles) // 2
    where = {
        str(r.record.event_id): r.offset
        for r in inbox
        if isinstance(r.record, ClientProfile) and str(r.record.event_id) in sent
    }
    for first, second in zip(profiles[:half], profiles[half:], strict=True):
        assert where[str(first.event_id)] < where[str(second.event_id)]
    ours = {p.client_pseudonym.encode() for p in profiles}
    refused = [r for r in hub.dead_letters() if r.key in ours]
    assert refused == []


def test_regression_librdkafka_partitioner_got_records_refused(hub: Hub) -> None:
    """Before: a record librdkafka put on another partition than murmur2 was dead-lettered
    PARTITION_MISMATCH ("use the default partitioner", which it did)."""
    n = hub.settings.topic_partitions
    profiles, placed, inbox = publish_and_route(hub, "confluent-kafka", count=4)
    misplaced = {k for k, p in placed if p != partition_of(k, n)}
    assert misplaced
    delivered = set(delivered_ids(inbox))
    for profile in profiles:
        assert str(profile.event_id) in delivered
    letters = [r.record for r in hub.dead_letters() if r.key in misplaced]
    assert not [
        d
        for d in letters
        if isinstance(d, DeadLetter) and d.reason is DeadLetterReason.PARTITION_MISMATCH
    ]
    assert letters == []


def other_partition(hub: Hub, key: bytes) -> int:
    """A partition the key does not hash to."""
    return (partition_of(key, hub.settings.topic_partitions) + 1) % hub.settings.topic_partitions


def moved_copy(hub: Hub, event_id: str) -> Received:
    """The repartition record of the outbox record ``event_id`` (as the router wrote it)."""
    found = hub.wait_for(
        lambda: hub.read(hub.catalogue.repartition.name, decode=False),
        lambda rs: any(r.ce_id == event_id for r in rs),
        what=f"{event_id} on the repartition topic",
    )
    return next(r for r in found if r.ce_id == event_id)


def test_a_record_moved_twice_is_routed_once_in_its_place(hub: Hub) -> None:
    """A worker that fails after moving a record moves it again; the second copy is not
    routed again - not even when the subject's state changed in between so that the rules
    would now accept what they refused."""
    who = records.subject()
    key = who.encode()
    hub.grant(
        who,
        to=[GEMEENTE],
        purposes=[Purpose.ARRANGEMENT],
        categories=(*CATEGORIES, DataCategory.INTAKE, DataCategory.ARRANGEMENT),
    )
    early = records.arrangement(who)  # before any profile: whose arrangement is unknown
    hub.publish(early, partition=other_partition(hub, key))
    letter = hub.wait_dead_letter(str(early.event_id))
    assert isinstance(letter.record, DeadLetter)
    assert letter.record.reason is DeadLetterReason.PUBLISHER_NOT_ALLOWED
    assert letter.record.source_partition == other_partition(hub, key)  # where it was published
    hub.publish(records.profile(who))  # now UWV is known to be first responsible

    copy = moved_copy(hub, str(early.event_id))
    assert (
        copy.headers[MOVED_FROM]
        .decode()
        .endswith(f":{other_partition(hub, key)}:{letter.record.source_offset}")
    )
    hub.publish_raw(
        copy.topic,
        key=copy.key,
        value=copy.raw,
        headers=list(copy.headers.items()),
        partition=copy.partition,
    )
    wait_caught_up(hub, hub.workers, timeout_s=120)

    assert str(early.event_id) not in delivered_ids(hub.inbox(GEMEENTE))
    letters = [
        r for r in hub.dead_letters() if getattr(r.record, "event_id", None) == early.event_id
    ]
    assert len(letters) == 1


@pytest.mark.parametrize("hub", ["security-on"], indirect=True)
def test_a_signed_record_replayed_to_another_partition_is_refused(hub: Hub) -> None:
    """The signature binds topic and key, not the partition: the replay guard of the
    partition the key hashes to sees every copy, wherever it was published."""
    (who,) = subjects(hub, 1)
    profile = records.profile(who)
    topic, key, value, headers = outgoing(hub, profile)
    first = other_partition(hub, key)  # moved, then routed
    hub.publish_raw(topic, key=key, value=value, headers=headers, partition=first)
    hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: str(profile.event_id) in delivered_ids(rs),
        what="the profile delivered",
    )
    again = partition_of(key, hub.settings.topic_partitions)  # routed where it is
    hub.publish_raw(topic, key=key, value=value, headers=headers, partition=again)

    letter = hub.wait_dead_letter(str(profile.event_id))
    assert isinstance(letter.record, DeadLetter)
    assert letter.record.reason is DeadLetterReason.REPLAYED
    assert letter.record.source_partition == again
    wait_caught_up(hub, hub.workers, timeout_s=120)
    assert delivered_ids(hub.inbox(GEMEENTE)).count(str(profile.event_id)) == 1
