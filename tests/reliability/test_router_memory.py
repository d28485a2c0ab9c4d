"""The defect the soak found: a router worker's memory grew with every record it routed.

A worker kept every id it had written, audited or applied in Python sets and dicts (about
three per record), and the replay guard every accepted event id in a dict and a heap:
about 0.85 KiB per record with record security on, for as long as the worker lived
(bench/soak.py at 200 rec/s: +40 MiB in 7 minutes, still rising). Those ids now live in
scratch databases on disk (:mod:`hub.scratch`), with a bounded page cache in memory, and
exactly-once still holds for every id ever seen.

The checks measure the Python heap with tracemalloc over thousands of records, and
SQLite's own memory (``sqlite3_memory_used``, outside the Python heap) while the stores
grow far beyond their page caches.
"""

from __future__ import annotations

import _sqlite3
import ctypes
import gc
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from hub.router.ids import delivery_id
from hub.router.processing import Inbound
from hub.router.seen import SeenIds
from hub.router.state import PartitionState
from hub.router.validation import partition_of
from hub.security.replay import ReplayGuard, ReplayResult
from tests.router.helpers import records
from tests.router.test_core import CATALOGUE, PARTITIONS, change, make_core

pytestmark = pytest.mark.reliability

WARM_UP = 2_000
MEASURED = 10_000
BYTES_PER_RECORD = 24
"""The Python heap a record may leave behind on average (before the fix: ~400 bytes
without the replay guard, ~900 with it)."""


@contextmanager
def heap_growth() -> Iterator[Callable[[], int]]:
    """Bytes the traced Python heap grew by inside the block (read after it)."""
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    grown: list[int] = []
    try:
        yield lambda: grown[0]
    finally:
        gc.collect()
        grown.append(tracemalloc.get_traced_memory()[0] - start)
        tracemalloc.stop()


def test_regression_router_memory_grew_with_every_record_routed() -> None:
    core = make_core()
    topic = CATALOGUE.outbox("uwv").name
    states = {p: PartitionState(p) for p in range(PARTITIONS)}
    people = [f"psn-memory-{i}" for i in range(40)]
    for who in people:
        states[partition_of(who.encode(), PARTITIONS)].consents.apply(
            change(who, "gemeente-amsterdam")
        )
    offsets = dict.fromkeys(range(PARTITIONS), 0)

    def route(n: int) -> list[str]:
        """Route ``n`` profiles (a routing-state snapshot and a delivery each); their ids."""
        ids = []
        for i in range(n):
            who = people[i % len(people)]
            partition = partition_of(who.encode(), PARTITIONS)
            offsets[partition] += 1
            profile = records.profile(who)
            message = Inbound(topic, partition, offsets[partition], who.encode(), b"")
            writes = core.handle(states[partition], message, profile)
            assert len(writes) == 2, writes
            ids.append(profile.event_id)
        return ids

    first = route(WARM_UP)
    with heap_growth() as grown:
        route(MEASURED)
    assert grown() < MEASURED * BYTES_PER_RECORD, (
        f"the heap grew {grown() / MEASURED:.0f} bytes per record routed"
    )
    held = sum(len(s.written) for s in states.values())
    assert held == 2 * (WARM_UP + MEASURED)  # every id is still known ...
    # ... so the first record of all, published again, writes nothing twice
    who = people[0]
    partition = partition_of(who.encode(), PARTITIONS)
    again = records.profile(who).model_copy(update={"event_id": first[0]})
    replay = Inbound(topic, partition, 10**6, who.encode(), b"")
    assert core.handle(states[partition], replay, again) == []
    assert delivery_id(first[0], "gemeente-amsterdam") in states[partition].written
    for state in states.values():
        state.close()


def test_regression_the_replay_guard_held_every_id_in_memory() -> None:
    now_ms = 1_800_000_000_000
    guard = ReplayGuard(clock=lambda: now_ms / 1000)
    topic = CATALOGUE.outbox("uwv").name

    def remember(start: int, n: int) -> None:
        for offset in range(start, start + n):
            event_id = f"00000000-0000-4000-8000-{offset:012d}"
            guard.remember(topic, offset % PARTITIONS, event_id, signed_at_ms=now_ms, offset=offset)

    remember(0, WARM_UP)
    with heap_growth() as grown:
        remember(WARM_UP, 2 * MEASURED)
    assert grown() < 2 * MEASURED * BYTES_PER_RECORD, (
        f"the heap grew {grown() / (2 * MEASURED):.0f} bytes per id remembered"
    )
    assert len(guard) == WARM_UP + 2 * MEASURED
    first = "00000000-0000-4000-8000-000000000000"
    assert guard.check(topic, 0, first, signed_at_ms=now_ms, offset=0) is ReplayResult.REDELIVERY
    assert guard.check(topic, 0, first, signed_at_ms=now_ms, offset=7) is ReplayResult.REPLAYED
    guard.close()


def _sqlite_memory_used() -> int:
    """Bytes SQLite holds in this process (its page caches included): the C library's
    ``sqlite3_memory_used``, which the sqlite3 module does not expose."""
    used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    used.restype = ctypes.c_int64
    return int(used())


def test_the_id_stores_keep_a_bounded_cache_in_memory_and_the_rest_on_disk() -> None:
    cache_kib = 256
    seen = SeenIds(cache_kib=cache_kib)
    guard = ReplayGuard(cache_kib=cache_kib, clock=lambda: 1_800_000_000.0)
    topic = CATALOGUE.outbox("uwv").name
    seen.written.add("first")  # open the database before the baseline
    guard.remember(topic, 0, "first", signed_at_ms=1_800_000_000_000, offset=0)
    before = _sqlite_memory_used()
    for i in range(60_000):
        event_id = f"00000000-0000-4000-8000-{i:012d}"
        seen.written.add(delivery_id(event_id, "gemeente-amsterdam"))
        seen.applied[event_id] = "uwv"
        guard.remember(topic, i % 4, event_id, signed_at_ms=1_800_000_000_000, offset=i + 1)
    grown = _sqlite_memory_used() - before
    on_disk = (
        seen.run("PRAGMA page_count").fetchone()[0] * seen.run("PRAGMA page_size").fetchone()[0]
    )
    assert on_disk > 8 * cache_kib * 1024  # the ids far outgrew the cache ...
    assert grown < 3 * cache_kib * 1024, f"SQLite grew by {grown:,} bytes"  # ... memory did not
    assert "first" in seen.written
    assert seen.applied.lookup("00000000-0000-4000-8000-000000000000") == (True, "uwv")
    assert len(guard) == 60_001
    seen.close()
    guard.close()
