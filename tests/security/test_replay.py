"""The replay guard: window, bounded memory, persistence, rebuild from the log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hub.security.keys import KeyStore
from hub.security.replay import ReplayGuard, ReplayResult, position
from hub.security.signing import RecordSigner, RecordVerifier
from tests.helpers.security import UWV, make_headers

T = "rmt.partner.uwv.outbox"
DAY_MS = 86_400_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    @property
    def ms(self) -> int:
        return int(self.now * 1000)


def test_fresh_redelivery_replayed_stale() -> None:
    clock = Clock()
    guard = ReplayGuard(timedelta(days=1), clock=clock)
    assert guard.check(T, 0, "e1", signed_at_ms=clock.ms, offset=5) is ReplayResult.FRESH
    guard.remember(T, 0, "e1", signed_at_ms=clock.ms, offset=5)
    assert guard.check(T, 0, "e1", signed_at_ms=clock.ms, offset=5) is ReplayResult.REDELIVERY
    assert guard.check(T, 0, "e1", signed_at_ms=clock.ms, offset=9) is ReplayResult.REPLAYED
    # other partitions and topics are other scopes
    assert guard.check(T, 1, "e1", signed_at_ms=clock.ms, offset=5) is ReplayResult.FRESH
    old = clock.ms - 2 * DAY_MS
    assert guard.check(T, 0, "e2", signed_at_ms=old, offset=6) is ReplayResult.STALE


def test_entries_expire_with_the_window() -> None:
    clock = Clock()
    guard = ReplayGuard(timedelta(days=1), clock=clock)
    guard.remember(T, 0, "e1", signed_at_ms=clock.ms, offset=1)
    clock.now += 2 * 86_400
    guard.remember(T, 0, "e2", signed_at_ms=clock.ms, offset=2)
    assert len(guard) == 1
    # e1 is gone, but it is also older than the window: still refused
    assert guard.check(T, 0, "e1", signed_at_ms=clock.ms - 2 * DAY_MS, offset=3) is (
        ReplayResult.STALE
    )


def test_dropping_for_space_raises_the_floor() -> None:
    clock = Clock()
    guard = ReplayGuard(timedelta(days=7), max_entries=3, clock=clock)
    for i in range(5):
        guard.remember(T, 0, f"e{i}", signed_at_ms=clock.ms + i, offset=i)
    assert len(guard) == 3
    assert guard.floor_ms == clock.ms + 1
    # the dropped e0 cannot come back as FRESH
    assert guard.check(T, 0, "e0", signed_at_ms=clock.ms, offset=99) is ReplayResult.STALE
    assert guard.check(T, 0, "e9", signed_at_ms=clock.ms + 10, offset=99) is ReplayResult.FRESH


def test_persisted_in_sqlite(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "replay.sqlite"
    guard = ReplayGuard(path=path, clock=clock)
    guard.remember(T, 2, "e1", signed_at_ms=clock.ms, offset=40)
    assert guard.flush() == 1
    guard.remember(T, 2, "unflushed", signed_at_ms=clock.ms, offset=41)
    guard._db.close()  # type: ignore[union-attr]  # a crash: the pending entry is lost
    reopened = ReplayGuard(path=path, clock=clock)
    assert reopened.check(T, 2, "e1", signed_at_ms=clock.ms, offset=40) is ReplayResult.REDELIVERY
    assert reopened.check(T, 2, "e1", signed_at_ms=clock.ms, offset=50) is ReplayResult.REPLAYED
    # not flushed = not committed: the consumer re-reads it at the same offset
    assert reopened.check(T, 2, "unflushed", signed_at_ms=clock.ms, offset=41) is (
        ReplayResult.FRESH
    )
    reopened.forget_partition(T, 2)
    assert len(reopened) == 0
    reopened.close()


def test_rebuilding_from_the_log_gives_the_same_guard(store: KeyStore) -> None:
    clock = Clock()
    signer = RecordSigner(store.private(UWV), clock=clock)
    log = []
    for i in range(6):
        headers = signer.sign(topic=T, key=b"k", value=b"v%d" % i, headers=make_headers(UWV))
        log.append((b"v%d" % i, headers))
    log.append(log[2])  # a replay at offset 6

    def run(guard: ReplayGuard) -> list[bool]:
        verifier = RecordVerifier(store.directory(), replay_guard=guard, clock=clock)
        return [
            verifier.verify(
                topic=T, key=b"k", value=v, headers=h, expected_signer=UWV, partition=0, offset=o
            ).ok
            for o, (v, h) in enumerate(log)
        ]

    live, rebuilt = ReplayGuard(clock=clock), ReplayGuard(clock=clock)
    assert run(live) == [True] * 6 + [False]
    assert run(rebuilt) == [True] * 6 + [False]
    assert live.entries() == rebuilt.entries()
    assert len(live.entries()) == 6


def test_a_position_names_partition_and_offset_apart() -> None:
    """The router's guard of a partition holds records published to every partition of
    the outbox (docs/decisions/0015-partition-agnostic-inbound.md): the same offset on
    another partition is another position, so a copy there is a replay."""
    clock = Clock()
    guard = ReplayGuard(timedelta(days=1), clock=clock)
    guard.remember(T, 2, "e1", signed_at_ms=clock.ms, offset=position(0, 5))
    assert guard.check(T, 2, "e1", signed_at_ms=clock.ms, offset=position(0, 5)) is (
        ReplayResult.REDELIVERY
    )
    assert guard.check(T, 2, "e1", signed_at_ms=clock.ms, offset=position(1, 5)) is (
        ReplayResult.REPLAYED
    )
    assert len({position(p, o) for p in range(4) for o in (0, 1, 2**41)}) == 12
    for bad in ((0, -1), (-1, 0), (0, 2**42), (2**21, 0)):
        with pytest.raises(ValueError, match="no position"):
            position(*bad)
