"""Watching router workers from a test: how they split the partitions, the consent state
they rebuilt, how far they got, and whether the router's consumer group has caught up.

Shared by the restart test (tests/router/test_restart.py) and the fault suite
(tests/reliability/test_router_faults.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from kafka import TopicPartition

from hub.kafka import consumer
from hub.router.runtime import RouterProcess, router_lag
from tests.helpers.waiting import wait_until
from tests.router.helpers.hubtest import Hub

__all__ = [
    "consent_state",
    "fresh_worker",
    "routed",
    "topic_size",
    "wait_caught_up",
    "wait_routed",
    "wait_split",
]


def fresh_worker(hub: Hub, name: str) -> RouterProcess:
    """Stop the hub's workers and start one in their place, which loads every partition
    afresh; returns it once it is ready."""
    for worker in list(hub.workers):
        worker.stop()
        hub.workers.remove(worker)
    worker = hub.worker(name)
    worker.wait_ready(60, partitions=hub.settings.topic_partitions)
    return worker


def consent_state(*workers: RouterProcess) -> dict[str, Any]:
    """The union of the workers' consent tables, by partition."""
    merged: dict[str, Any] = {}
    for worker in workers:
        status = worker.status() or {}
        merged |= status.get("consents", {})
    return merged


def _dead(workers: Iterable[RouterProcess]) -> str | None:
    """The log tail of a worker that died by itself (not SIGKILLed by the test), if any."""
    for worker in workers:
        if worker.pid is not None and worker.returncode not in (None, -9):
            log = worker.log_file.read_text() if worker.log_file else ""
            return f"router worker {worker.pid} exited ({worker.returncode}):\n{log[-3000:]}"
    return None


def wait_split(
    hub: Hub, *workers: RouterProcess, timeout_s: float = 60.0, each_some: bool = True
) -> None:
    """Until the workers together have loaded every partition, each one some (unless not
    ``each_some``: with more workers than partition groups the assignor may leave one
    idle, e.g. a third worker on four co-partitioned partitions)."""
    partitions = list(range(hub.settings.topic_partitions))

    def split() -> bool:
        statuses = [w.status() for w in workers]
        if all(statuses):
            ready = [set(s["ready"]) for s in statuses if s]
            assigned = [set(s["assigned"]) for s in statuses if s]
            if (
                ready == assigned
                and (all(ready) or not each_some)
                and sorted(p for r in ready for p in r) == partitions
            ):
                return True
        died = _dead(workers)
        if died:
            raise AssertionError(died)
        return False

    wait_until(
        split,
        timeout_s=timeout_s,
        what=lambda: f"partitions not split: {[w.status() for w in workers]}",
    )


def routed(workers: Iterable[RouterProcess]) -> int:
    """Outbox records the workers have routed so far, by their last status reports (a
    killed worker's last report counts; records routed again after a crash count again)."""
    total = 0
    for worker in workers:
        status = worker.status() or {}
        total += int(status.get("stats", {}).get("records", 0))
    return total


def wait_routed(
    worker: RouterProcess, count: int, *, timeout_s: float, interval_s: float = 0.2
) -> None:
    """Until ``worker`` has routed ``count`` outbox records (by its status reports)."""
    done = 0

    def reached() -> bool:
        nonlocal done
        done = routed([worker])
        if done >= count:
            return True
        assert worker.running, "the router worker died"
        return False

    wait_until(
        reached,
        timeout_s=timeout_s,
        what=lambda: f"the router routed {done} of {count} records",
        interval_s=interval_s,
    )


def wait_caught_up(
    hub: Hub, workers: Iterable[RouterProcess], *, timeout_s: float, group_id: str | None = None
) -> None:
    """Until the router's consumer group has committed every outbox record (no lag left)."""
    group = group_id or f"{hub.settings.topic_prefix}-router"
    everyone = list(workers)
    lag: dict[Any, int] = {}

    def caught_up() -> bool:
        lag.clear()
        lag.update(router_lag(hub.settings, hub.catalogue, group))
        if not any(lag.values()):
            return True
        died = _dead(everyone)
        if died:
            raise AssertionError(died)
        return False

    def behind() -> str:
        late = {f"{tp.topic}/{tp.partition}": n for tp, n in lag.items() if n}
        logs = "\n".join(
            w.log_file.read_text()[-2000:] for w in everyone if w.log_file and w.log_file.exists()
        )
        return f"the router catches up (behind: {late})\n{logs}"

    wait_until(caught_up, timeout_s=timeout_s, what=behind, interval_s=0.5)


def topic_size(hub: Hub, topic: str, *, timeout_s: float = 15.0) -> int:
    """How many records ``topic`` holds: the sum of its fetch high watermarks (cheap: no
    record is decoded; the topics here are never truncated)."""
    reader = consumer(hub.settings, group_id=None, fetch_max_wait_ms=10, max_poll_records=1)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
        reader.assign(tps)
        reader.seek_to_end(*tps)
        deadline = time.monotonic() + timeout_s
        while any(reader.highwater(tp) is None for tp in tps):
            assert time.monotonic() < deadline, f"{topic}: no high watermark"
            reader.poll(timeout_ms=50)
        return sum(reader.highwater(tp) or 0 for tp in tps)
    finally:
        reader.close()
