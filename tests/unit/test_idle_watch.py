"""The router's watch for a stalled fetch (docs/decisions/0018-stalled-fetch-rescue.md).

faust's stall cannot be produced on demand, so these tests give the watch faust's
consumer bookkeeping in the state the stall leaves behind (seen on Apache Kafka in
tests/router/test_restart.py): records past what faust read and committed, and no batch
delivered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest
from aiokafka import TopicPartition

from hub.router.app import _IdleWatch

OUTBOX = "rt.partner.uwv.outbox"


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass
class Client:
    """What the watch uses of aiokafka's consumer."""

    paused_tps: set[TP] = field(default_factory=set)
    resumed: list[TP] = field(default_factory=list)

    def paused(self) -> set[TP]:
        return self.paused_tps

    def resume(self, *tps: TopicPartition) -> None:
        if not all(isinstance(tp, TopicPartition) for tp in tps):  # as aiokafka checks
            raise TypeError("partitions must be TopicPartition namedtuples")
        self.resumed.extend(TP(tp.topic, tp.partition) for tp in tps)


@dataclass
class Consumer:
    """faust's consumer bookkeeping, as the watch reads it."""

    highwaters: dict[TP, int]
    _read_offset: dict[TP, int | None]
    _committed_offset: dict[TP, int | None]
    _active_partitions: set[TP] = field(default_factory=set)
    _paused_partitions: set[TP] = field(default_factory=set)
    _buffered_partitions: set[TP] = field(default_factory=set)
    flow_active: bool = True
    seeks: list[tuple[TP, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._thread = type("Thread", (), {"_consumer": Client()})()

    def assignment(self) -> set[TP]:
        return set(self.highwaters)

    def highwater(self, tp: TP) -> int:
        return self.highwaters[tp]

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))

    def resume_partitions(self, tps: Any) -> None:
        self._active_partitions.update(tps)


@dataclass
class App:
    consumer: Consumer
    rebalancing: bool = False


@dataclass
class Engine:
    busy: bool = False


def stalled_consumer() -> Consumer:
    """Partition 2 stalled (read to 9, committed 10, high 74, inactive); partition 3
    fully read."""
    p2, p3 = TP(OUTBOX, 2), TP(OUTBOX, 3)
    return Consumer(
        highwaters={p2: 74, p3: 50, TP("rt.consent.changes", 2): 9},
        _read_offset={p2: 9, p3: 49},
        _committed_offset={p2: 10, p3: 50},
        _active_partitions={p3},
    )


def watch(app: App, engine: Engine) -> _IdleWatch:
    return _IdleWatch(app, engine, [OUTBOX], after_s=0.0)  # type: ignore[arg-type]


def test_a_stalled_partition_is_logged_sought_back_and_made_active(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = stalled_consumer()
    idle = watch(App(consumer), Engine())
    with caplog.at_level(logging.WARNING, logger="hub.router.app"):
        asyncio.run(idle.check())
    p2 = TP(OUTBOX, 2)
    assert consumer.seeks == [(p2, 10)]
    assert p2 in consumer._active_partitions
    assert consumer._thread._consumer.resumed == [p2]
    assert idle.rescues == 1
    (line,) = [r.getMessage() for r in caplog.records]
    assert f"{OUTBOX}/2 from 10 to 74 (inactive)" in line


def test_nothing_is_done_while_the_engine_routes_a_batch() -> None:
    consumer = stalled_consumer()
    asyncio.run(watch(App(consumer), Engine(busy=True)).check())
    assert consumer.seeks == []


def test_nothing_is_done_during_a_rebalance_or_with_the_flow_stopped() -> None:
    consumer = stalled_consumer()
    asyncio.run(watch(App(consumer, rebalancing=True), Engine()).check())
    consumer.flow_active = False
    asyncio.run(watch(App(consumer), Engine()).check())
    assert consumer.seeks == []


def test_nothing_is_done_before_the_stream_has_been_idle_long_enough() -> None:
    consumer = stalled_consumer()
    idle = _IdleWatch(App(consumer), Engine(), [OUTBOX], after_s=60.0)  # type: ignore[arg-type]
    idle.delivered()
    asyncio.run(idle.check())
    assert consumer.seeks == []


def test_a_partition_read_to_its_end_is_left_alone() -> None:
    consumer = stalled_consumer()
    consumer.highwaters[TP(OUTBOX, 2)] = 10
    asyncio.run(watch(App(consumer), Engine()).check())
    assert consumer.seeks == []


def test_regression_the_rescue_crashed_the_worker_when_resuming_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """faust's partitions are not the client's TopicPartition: resuming them raised out
    of the flush timer and stopped the worker. A failing rescue is logged, never raised."""
    consumer = stalled_consumer()

    def broken(*tps: Any) -> None:
        raise TypeError("partitions must be TopicPartition namedtuples")

    consumer._thread._consumer.resume = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="hub.router.app"):
        asyncio.run(watch(App(consumer), Engine()).check())
    assert "seeking the stalled partitions back failed" in caplog.text


def test_changed_faust_internals_make_the_watch_do_nothing() -> None:
    consumer = stalled_consumer()
    del consumer._read_offset
    asyncio.run(watch(App(consumer), Engine()).check())
    assert consumer.seeks == []
