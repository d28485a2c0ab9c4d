"""Hostile values on a partner's outbox, through one real router worker.

Hypothesis draws batches of hostile records - random bytes, truncated Avro, Avro with
bytes left over, unknown and wrong schema ids, invalid UTF-8 inside Avro strings, huge
(multi-megabyte) values, unsigned records, records signed by another partner, broken or
contradicting CloudEvents headers, replays - and publishes each batch to UWV's outbox
between good records, all in the partition of one consented person. Every batch must
end with: the worker still running, a dead letter with a specific reason (never OTHER,
which means the hub failed) naming the outbox topic, partition and offset of every
hostile record, and every good record delivered exactly once.

One worker for the module: hypothesis examples are cheap, a worker start is not.
Examples are derandomized (the same batches every run); ``--reliability=full`` draws
more of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError

from hub.broker import choose_broker
from hub.config import HubSettings, load_settings
from hub.kafka import producer
from hub.router.codec import DEAD_LETTER_VALUE_BYTES
from hub.router.validation import partition_of
from hub.serde.canonical import cloud_event_headers
from hub.serde.wire import frame
from schemas.menu_card import Instrument
from schemas.models import ClientProfile, DeadLetter
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import DataCategory, Purpose
from tests.plugins.hub import own_hub
from tests.plugins.reliability import Scale
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, Received, delivered_ids

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

GEMEENTE = "gemeente-amsterdam"
CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
)
ARRANGEMENT_CATEGORIES = (*CATEGORIES, DataCategory.ARRANGEMENT)
Headers = list[tuple[str, bytes]]
DECODE = frozenset({DeadLetterReason.DECODE_ERROR})


@dataclass
class Router:
    """The module's hub, its worker, a consented person and a producer for big values."""

    hub: Hub
    who: str
    big: KafkaProducer
    good: list[str]
    """Event ids of every good record published so far (each must arrive once)."""
    sent: list[tuple[ClientProfile, bytes, Headers]]
    """(record, value, headers) of good records as published (material for replays)."""
    other: set[str] = field(default_factory=set)
    """Event ids other tests of the module had delivered on purpose."""

    @property
    def outbox(self) -> str:
        return self.hub.catalogue.outbox("uwv").name

    @property
    def key(self) -> bytes:
        return self.who.encode()

    @property
    def partition(self) -> int:
        return partition_of(self.key, self.hub.settings.topic_partitions)

    def encode(self, record: Any) -> bytes:
        return self.hub.codec.encode(record, self.outbox)

    def seal(self, value: bytes, headers: Headers, partner: str = "uwv") -> tuple[bytes, Headers]:
        sealed, out = self.hub.partner(partner).seal_outbound(
            topic=self.outbox, key=self.key, value=value, headers=headers
        )
        assert sealed is not None
        return sealed, out

    def produce(self, value: bytes | None, headers: Headers) -> int:
        """Produce to UWV's outbox in the person's partition; the offset it got."""
        meta = self.big.send(
            self.outbox, key=self.key, value=value, headers=headers, partition=self.partition
        ).get(timeout=30)
        return int(meta.offset)

    def publish(self, record: Any) -> int:
        """``record`` sealed by UWV as the SDK does; its offset."""
        value, headers = self.seal(self.encode(record), cloud_event_headers(record))
        return self.produce(value, headers)

    def dead_letter_at(self, offset: int, timeout_s: float = 60) -> DeadLetter:
        hub = self.hub
        where = (self.partition, offset)
        hub.wait_for(
            lambda: [
                Received("", p, o, None, None, {}, letter)
                for (p, o), letter in _letters(hub, self.outbox).items()
            ],
            lambda rs: where in {(r.partition, r.offset) for r in rs},
            timeout_s=timeout_s,
            what=f"the dead letter of offset {offset}",
        )
        return _letters(hub, self.outbox)[where]

    def delivered(self, *event_ids: str) -> list[str]:
        """Wait until the gemeente has every good record and ``event_ids``; its ids."""
        wanted = set(self.good) | set(event_ids)
        inbox = self.hub.wait_for(
            lambda: self.hub.inbox(GEMEENTE),
            lambda rs: wanted <= set(delivered_ids(rs)),
            timeout_s=120,
            what="the records to deliver",
        )
        return delivered_ids(inbox)

    def good_record(self) -> int:
        profile = records.profile(self.who)
        value, headers = self.seal(self.encode(profile), cloud_event_headers(profile))
        offset = self.produce(value, headers)
        self.good.append(profile.event_id)
        self.sent.append((profile, value, headers))
        return offset


@pytest.fixture(scope="module")
def router(hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    with own_hub(hub_settings, tmp_path_factory.mktemp("hostile-router"), "hr") as hub:
        big = producer(hub.settings, linger_ms=0, max_request_size=16 * 1024 * 1024)
        try:
            assert hub.security, "record security is on by default"
            worker = hub.worker()
            who = records.subject()
            hub.grant(
                who,
                to=[GEMEENTE],
                purposes=[Purpose.ARRANGEMENT],
                categories=ARRANGEMENT_CATEGORIES,
            )
            worker.wait_ready(90, partitions=hub.settings.topic_partitions)
            made = Router(hub, who, big, [], [])
            made.good_record()
            hub.wait_for(
                lambda: hub.inbox(GEMEENTE),
                lambda rs: set(made.good) <= set(delivered_ids(rs)),
                timeout_s=60,
                what="the first good record",
            )
            yield made
        finally:
            big.close(timeout=5)


# --- hostile values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One hostile record: what it is, how to make it, which reasons are right for it."""

    kind: str
    make: Callable[[Router], tuple[bytes | None, Headers]]
    reasons: frozenset[DeadLetterReason]


def _profile_bytes(router: Router, **changes: Any) -> tuple[ClientProfile, bytes]:
    profile = records.profile(router.who, **changes)
    return profile, router.encode(profile)


def _sealed(router: Router, value: bytes, record: Any = None) -> tuple[bytes, Headers]:
    record = record if record is not None else records.profile(router.who)
    return router.seal(value, cloud_event_headers(record))


@st.composite
def random_bytes(draw: st.DrawFn) -> Hostile:
    data = draw(st.binary(max_size=3000))
    return Hostile(
        "random bytes",
        lambda r: _sealed(r, data),
        frozenset({DeadLetterReason.DECODE_ERROR, DeadLetterReason.SCHEMA_INVALID}),
    )


@st.composite
def truncated(draw: st.DrawFn) -> Hostile:
    fraction = draw(st.floats(0.0, 0.999))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r)
        return _sealed(r, value[: int(len(value) * fraction)], profile)

    return Hostile("truncated Avro", make, DECODE)


@st.composite
def trailing(draw: st.DrawFn) -> Hostile:
    extra = draw(st.binary(min_size=1, max_size=64))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r)
        return _sealed(r, value + extra, profile)

    return Hostile("bytes after the record", make, DECODE)


@st.composite
def unknown_schema_id(draw: st.DrawFn) -> Hostile:
    schema_id = draw(st.integers(100_000, 2**31 - 1))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r)
        return _sealed(r, frame(schema_id, value[5:]), profile)

    return Hostile("unknown schema id", make, DECODE)


@st.composite
def wrong_schema_id(draw: st.DrawFn) -> Hostile:
    """A profile's payload under the schema id of another record type."""
    other = draw(st.sampled_from(["Vacancy", "Referral", "DeadLetter", "RejectionNotice"]))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r)
        schema_id = r.hub.codec.register([f"nl.rmt.hub.{other}"])[f"nl.rmt.hub.{other}"]
        return _sealed(r, frame(schema_id, value[5:]), profile)

    return Hostile(
        f"a profile under the schema id of {other}",
        make,
        frozenset(
            {
                DeadLetterReason.DECODE_ERROR,
                DeadLetterReason.SCHEMA_INVALID,
                DeadLetterReason.KEY_MISMATCH,
                DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            }
        ),
    )


@st.composite
def invalid_utf8(draw: st.DrawFn) -> Hostile:
    """A profile whose given name's bytes are replaced by invalid UTF-8 of the same length."""
    bad = draw(
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
    )
    length = draw(st.integers(8, 200))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        marker = "Q" * length
        profile, value = _profile_bytes(r, given_name=marker)
        start = value.index(marker.encode())
        junk = (bad * length)[:length]
        broken = value[:start] + junk + value[start + length :]
        return _sealed(r, broken, profile)

    return Hostile("invalid UTF-8 in an Avro string", make, DECODE)


@st.composite
def huge_string(draw: st.DrawFn) -> Hostile:
    """A profile with a name of most of a megabyte: more than the hub takes from an outbox
    (MAX_OUTBOX_VALUE_BYTES), less than Apache Kafka's default record limit (1 MiB), which
    refuses anything larger at publish (test_a_record_over_the_brokers_limit_...)."""
    size = draw(st.sampled_from([600_000, 800_000, 1_000_000]))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r, given_name="x" * size)
        return _sealed(r, value, profile)

    return Hostile(
        "a string of most of a megabyte",
        make,
        frozenset({DeadLetterReason.DECODE_ERROR, DeadLetterReason.SCHEMA_INVALID}),
    )


@st.composite
def unsigned(draw: st.DrawFn) -> Hostile:
    encrypted = draw(st.booleans())

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r)
        headers = cloud_event_headers(profile)
        if encrypted:  # encrypted to the hub, but the signature header dropped
            value, headers = r.seal(value, headers)
            headers = [(k, v) for k, v in headers if not k.startswith("rmt-sig")]
        return value, headers

    return Hostile("unsigned", make, frozenset({DeadLetterReason.UNSIGNED}))


@st.composite
def wrong_signer(draw: st.DrawFn) -> Hostile:
    partner = draw(st.sampled_from(["gemeente-rotterdam", "sbb", "sp-werkgevers"]))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r)
        return r.seal(value, cloud_event_headers(profile), partner=partner)

    return Hostile(f"signed by {partner}", make, frozenset({DeadLetterReason.SIGNER_MISMATCH}))


SCHEMA = frozenset({DeadLetterReason.SCHEMA_INVALID})
_CE_BREAKS: dict[str, tuple[Callable[[Headers], Headers], bool, frozenset[DeadLetterReason]]] = {
    # name: (break the headers, after signing?, the right reasons)
    "ce_type of another record type": (
        lambda h: _set(h, "ce_type", b"nl.rmt.hub.Vacancy"),
        False,
        SCHEMA,
    ),
    "ce_type garbage": (lambda h: _set(h, "ce_type", b"\x00<script>"), False, SCHEMA),
    "ce_type missing": (lambda h: [(k, v) for k, v in h if k != "ce_type"], False, SCHEMA),
    "ce_specversion 0.3": (lambda h: _set(h, "ce_specversion", b"0.3"), False, SCHEMA),
    "ce_time not RFC 3339": (lambda h: _set(h, "ce_time", b"yesterday"), False, SCHEMA),
    "ce_id other than the event id": (
        lambda h: _set(h, "ce_id", str(uuid.uuid4()).encode()),
        False,
        SCHEMA,
    ),
    "ce_source another partner": (
        lambda h: _set(h, "ce_source", b"sbb"),
        False,
        frozenset({DeadLetterReason.SIGNER_MISMATCH}),
    ),
    "ce_source removed after signing": (
        lambda h: [(k, v) for k, v in h if k != "ce_source"],
        True,
        frozenset({DeadLetterReason.SIGNATURE_INVALID}),
    ),
    "ce_type not UTF-8 after signing": (
        lambda h: _set(h, "ce_type", b"\xff\xfe"),
        True,
        frozenset({DeadLetterReason.SIGNATURE_INVALID}),
    ),
    "ce_id repeated after signing": (
        lambda h: [*h, ("ce_id", str(uuid.uuid4()).encode())],
        True,
        frozenset({DeadLetterReason.SIGNATURE_INVALID}),
    ),
}


def _set(headers: Headers, name: str, value: bytes) -> Headers:
    return [(k, value if k == name else v) for k, v in headers]


@st.composite
def broken_cloud_event(draw: st.DrawFn) -> Hostile:
    name = draw(st.sampled_from(sorted(_CE_BREAKS)))
    brk, after, reasons = _CE_BREAKS[name]

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value = _profile_bytes(r)
        headers = cloud_event_headers(profile)
        if after:
            sealed, signed = r.seal(value, headers)
            return sealed, brk(signed)
        return r.seal(value, brk(headers))

    return Hostile(name, make, reasons)


@st.composite
def replayed(draw: st.DrawFn) -> Hostile:
    """A good record already routed, published again: as it was, or signed anew."""
    resign = draw(st.booleans())
    pick = draw(st.integers(0, 10_000))

    def make(r: Router) -> tuple[bytes | None, Headers]:
        profile, value, headers = r.sent[pick % len(r.sent)]
        if not resign:
            return value, headers
        return r.seal(r.encode(profile), cloud_event_headers(profile))

    return Hostile("replayed", make, frozenset({DeadLetterReason.REPLAYED}))


@st.composite
def tombstone(draw: st.DrawFn) -> Hostile:
    """A null value: signed by UWV, or not signed at all."""
    signed = draw(st.booleans())

    def make(r: Router) -> tuple[bytes | None, Headers]:
        headers = cloud_event_headers(records.profile(r.who))
        if not signed:
            return None, headers
        return None, r.hub.partner("uwv").sign_outbound(
            topic=r.outbox, key=r.key, value=None, headers=headers
        )

    reason = DeadLetterReason.SCHEMA_INVALID if signed else DeadLetterReason.UNSIGNED
    return Hostile("a tombstone", make, frozenset({reason}))


def hostile() -> st.SearchStrategy[Hostile]:
    return st.one_of(
        tombstone(),
        random_bytes(),
        truncated(),
        trailing(),
        unknown_schema_id(),
        wrong_schema_id(),
        invalid_utf8(),
        huge_string(),
        unsigned(),
        wrong_signer(),
        broken_cloud_event(),
        replayed(),
    )


# --- the test ---------------------------------------------------------------------------------


def _letters(hub: Hub, outbox: str) -> dict[tuple[int, int], DeadLetter]:
    found: dict[tuple[int, int], DeadLetter] = {}
    for received in hub.dead_letters():
        letter = received.record
        if isinstance(letter, DeadLetter) and letter.source_topic == outbox:
            found[(letter.source_partition, letter.source_offset)] = letter
    return found


@pytest.mark.timeout(3600)  # the full size runs long
def test_hostile_records_are_dead_lettered_and_good_ones_delivered_once(
    router: Router, scale: Scale
) -> None:
    @settings(
        max_examples=scale.pick(6, 60),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batch=st.lists(hostile(), min_size=1, max_size=scale.pick(12, 30)))
    def run(batch: list[Hostile]) -> None:
        expected: dict[tuple[int, int], Hostile] = {}
        router.good_record()
        for item in batch:
            value, headers = item.make(router)
            expected[(router.partition, router.produce(value, headers))] = item
            router.good_record()
        hub = router.hub
        letters = hub.wait_for(
            lambda: [
                Received("", p, o, None, None, {}, letter)
                for (p, o), letter in _letters(hub, router.outbox).items()
            ],
            lambda rs: set(expected) <= {(r.partition, r.offset) for r in rs},
            timeout_s=120,
            what="a dead letter for every hostile record",
        )
        by_where = {(r.partition, r.offset): r.record for r in letters}
        for where, item in expected.items():
            letter = by_where[where]
            assert isinstance(letter, DeadLetter)
            event(f"{item.kind} -> {letter.reason.value}")
            assert letter.reason in item.reasons, (item.kind, letter.reason, letter.message)
            assert letter.reason is not DeadLetterReason.OTHER, (item.kind, letter.message)
            assert letter.source_topic == router.outbox
            assert letter.message
        inbox = hub.wait_for(
            lambda: hub.inbox(GEMEENTE),
            lambda rs: set(router.good) <= set(delivered_ids(rs)),
            timeout_s=120,
            what="every good record",
        )
        ids = delivered_ids(inbox)
        assert all(ids.count(event_id) == 1 for event_id in router.good), "delivered twice"
        assert set(ids) <= set(router.good) | router.other, "something hostile was delivered"
        for worker in hub.workers:
            assert worker.running, "the router worker died"

    run()


def test_an_older_revision_after_a_newer_one_is_passed_on_and_the_newer_one_kept(
    router: Router,
) -> None:
    """Reordered versions of an arrangement (revision 1 arriving after revision 2).

    Specified behaviour (hub/router/state.py ``superseded``, and the monitor feed): the
    late version is accepted and delivered once - it carries its revision, recipients
    keep the highest - but the hub's own state keeps the newer version, so the rules
    that read earlier arrangements (here the tailored-budget cap) see revision 2.
    """
    arrangement_id = f"arr-{uuid.uuid4().hex[:8]}"
    budget = Instrument.TAILORED_BUDGET
    newer = records.arrangement(
        router.who, records.service(budget, 90_000), arrangement_id=arrangement_id, revision=2
    )
    older = records.arrangement(
        router.who, records.service(budget, 10_000), arrangement_id=arrangement_id, revision=1
    )
    # EUR 200 more: within the cap next to revision 1 (100), over it next to revision 2 (900)
    another = records.arrangement(router.who, records.service(budget, 20_000))
    router.publish(newer)
    router.publish(older)
    over = router.publish(another)
    replay = router.publish(older)  # and the late version once more, as it was
    router.good_record()

    letter = router.dead_letter_at(over)
    assert letter.reason is DeadLetterReason.TAILORED_BUDGET_EXCEEDED, letter.message
    assert letter.event_id == another.event_id
    again = router.dead_letter_at(replay)
    assert again.reason is DeadLetterReason.REPLAYED, again.message
    router.other |= {newer.event_id, older.event_id}
    ids = router.delivered(newer.event_id, older.event_id)
    assert ids.count(newer.event_id) == 1
    assert ids.count(older.event_id) == 1
    assert another.event_id not in ids
    letters = _letters(router.hub, router.outbox).values()
    assert older.event_id not in {
        d.event_id for d in letters if d.reason is not DeadLetterReason.REPLAYED
    }


def test_regression_an_oversized_record_stalled_its_partition(router: Router) -> None:
    """A valid profile with a 1.2 MB name (on Tansu, which has no record limit): its
    delivery did not fit in a produce request, the router retried the batch forever and
    nothing behind it in the partition moved. Now anything over MAX_OUTBOX_VALUE_BYTES is
    refused (DECODE_ERROR), its dead letter keeps the first 64 KiB and names where the
    whole record is, and the next record is delivered. 900 KB: over the hub's limit,
    under Apache Kafka's 1 MiB."""
    profile = records.profile(router.who, given_name="x" * 900_000)
    offset = router.publish(profile)
    router.good_record()
    letter = router.dead_letter_at(offset)
    assert letter.reason is DeadLetterReason.DECODE_ERROR
    assert "at most" in letter.message
    assert letter.original_value is not None
    assert len(letter.original_value) <= DEAD_LETTER_VALUE_BYTES
    assert f"offset {offset}" in letter.message
    router.delivered()
    assert profile.event_id not in router.delivered()


def test_regression_a_ce_id_other_than_the_event_id_slipped_past_the_replay_guard(
    router: Router,
) -> None:
    """The replay guard keys on ce_id, de-duplication on the record's event_id: a record
    already routed, published again under a new ce_id, was silently dropped (no dead
    letter, no notice). Now ce_id must be the event id: SCHEMA_INVALID naming ce_id."""
    first = records.profile(router.who)
    router.publish(first)
    headers = _set(cloud_event_headers(first), "ce_id", str(uuid.uuid4()).encode())
    value, sealed = router.seal(router.encode(first), headers)
    offset = router.produce(value, sealed)
    router.good.append(first.event_id)
    router.good_record()
    letter = router.dead_letter_at(offset)
    assert letter.reason is DeadLetterReason.SCHEMA_INVALID
    assert "ce_id" in letter.message
    assert router.delivered().count(first.event_id) == 1


def test_a_header_with_a_null_value_is_dead_lettered(router: Router) -> None:
    """Kafka headers may have a null value (kafka-python refuses to send one, the
    Confluent client does): the router refuses the record and goes on."""
    from confluent_kafka import Producer  # noqa: PLC0415 - only this test sends with it

    profile, value = _profile_bytes(router)
    sealed, headers = router.seal(value, cloud_event_headers(profile))
    nulled = [(k, v) for k, v in headers if k != "ce_type"] + [("ce_type", None)]
    offsets: list[int] = []
    confluent = Producer({"bootstrap.servers": router.hub.settings.bootstrap_servers})
    confluent.produce(
        router.outbox,
        value=sealed,
        key=router.key,
        headers=nulled,
        partition=router.partition,
        on_delivery=lambda err, msg: offsets.append(msg.offset()),
    )
    assert confluent.flush(30) == 0
    router.good_record()
    letter = router.dead_letter_at(offsets[0])
    assert letter.reason is DeadLetterReason.SIGNATURE_INVALID, letter.message
    assert profile.event_id not in router.delivered()


def test_a_restarted_worker_loads_past_the_hostile_records_and_repeats_nothing(
    router: Router,
) -> None:
    """A new worker reads the same outbox partitions (the replay guard is rebuilt from
    them, huge and broken records included), routes what comes next, and writes no
    second delivery and no second dead letter for what the first worker handled."""
    hub = router.hub
    before = _letters(hub, router.outbox)
    for worker in list(hub.workers):
        worker.stop()
        hub.workers.remove(worker)  # stopped on purpose: not a death wait_for reports
    hub.worker("w2").wait_ready(90, partitions=hub.settings.topic_partitions)
    router.good_record()
    ids = router.delivered()
    assert all(ids.count(event_id) == 1 for event_id in router.good)
    assert set(ids) <= set(router.good) | router.other
    after = [
        r.record
        for r in hub.dead_letters()
        if isinstance(r.record, DeadLetter) and r.record.source_topic == router.outbox
    ]
    wheres = [(d.source_partition, d.source_offset) for d in after]
    assert len(wheres) == len(set(wheres)), "a record was dead-lettered twice"
    assert set(before) <= set(wheres)


def test_a_record_over_the_brokers_limit_is_refused_at_publish(router: Router) -> None:
    """Apache Kafka refuses a record over its 1 MiB default at publish: it never reaches
    an outbox, the router or a dead letter; the next record flows (Tansu takes any size,
    which is why the router has a limit of its own)."""
    if router.hub.settings.bootstrap_servers and not _on_apache_kafka():
        pytest.skip("the session broker is Tansu, which has no record limit")
    lone = producer(
        router.hub.settings, linger_ms=0, enable_idempotence=False, max_request_size=4 << 20
    )
    try:
        future = lone.send(router.outbox, key=router.key, value=b"x" * 1_500_000)
        with pytest.raises(MessageSizeTooLargeError):
            future.get(timeout=30)
    finally:
        lone.close()
    router.good_record()
    router.delivered()


def _on_apache_kafka() -> bool:
    settings = load_settings()
    return settings.bootstrap_servers is not None or choose_broker(settings).kind == "kafka"
