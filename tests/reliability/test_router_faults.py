"""Router workers killed with SIGKILL at random points of a long stream, and restarted.

Three partners publish a stream (``scale.pick(4_000, 50_000)`` records) about subjects of
three kinds: consent to one municipality, consent to a municipality and a partner kind
(SBB), no consent at all; a few invalid records are sprinkled in, and a few valid records
are published a second time (an at-least-once publisher retrying); some subjects get
arrangements whose validity depends on what came before (a budget cap across them).
Two router workers share the partitions; ``scale.pick(3, 8)`` times a worker chosen at
random (now and then both at once) is killed with SIGKILL at a random point of the
routing and started again (seeded: the seed is printed, and ``RMT_FAULT_SEED=<seed>``
replays the same stream shape, commit interval and kill schedule). Then, by event id:

* every valid record is in the inbox of each partner entitled to it exactly once (by
  ``ce_id`` = :func:`hub.router.ids.delivery_id`) and in no other inbox;
* every delivery has exactly one disclosure audit entry, naming its recipient and source,
  and the audit's hash chain of every partition is whole;
* every invalid record (among them each third arrangement) is dead-lettered exactly
  once, its publisher gets exactly one rejection notice, and it reaches no inbox;
* every second copy of a valid record is dead-lettered exactly once as a replay (with
  one rejection notice), however the kills fell between the two copies.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from hub.router.runtime import RouterProcess
from tests.plugins.reliability import Scale
from tests.reliability.delivery import (
    GROUPS,
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
from tests.router.helpers.hubtest import Hub
from tests.router.helpers.workers import routed, topic_size, wait_caught_up, wait_split

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


def kill_and_restart(
    hub: Hub,
    workers: list[RouterProcess],
    *,
    rng: random.Random,
    size: int,
    kills: int,
    progress_timeout_s: float,
    alive: Callable[[], None],
    **options: object,
) -> None:
    """``kills`` times, at random points of the routing (a fraction of ``size`` routed),
    SIGKILL a worker chosen at random - one time in five every worker at once - and
    start a new one in its place (with ``options``)."""
    points = sorted(rng.uniform(0.05, 0.85) for _ in range(kills))
    for number, point in enumerate(points, start=1):
        deadline = time.monotonic() + progress_timeout_s
        while routed(hub.workers) < point * size:
            alive()
            assert time.monotonic() < deadline, f"no progress towards kill {number}"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.3))
        slots = range(len(workers)) if rng.random() < 0.2 else [rng.randrange(len(workers))]
        for slot in slots:
            workers[slot].kill()
        print(
            f"  kill {number}: worker(s) {[workers[s].pid for s in slots]} at "
            f"{routed(hub.workers)} records routed (point {point:.2f})"
        )
        time.sleep(rng.uniform(0.0, 1.0))
        for slot in slots:
            workers[slot] = hub.worker(f"w{slot + 1}-restart{number}", **options)


@pytest.mark.timeout(3600)
def test_sigkill_at_random_points_delivers_every_record_exactly_once(
    hub: Hub, scale: Scale
) -> None:
    seed = int(os.environ.get("RMT_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    size, kills = scale.pick(4_000, 50_000), scale.pick(3, 8)
    print(f"\nfault test ({scale.name}): seed {seed} (RMT_FAULT_SEED={seed} replays it)")
    started = time.monotonic()

    subjects = {g: [records.subject() for _ in range(scale.pick(40, 400))] for g in GROUPS}
    grant_groups(hub, subjects)
    stream = make_stream(rng, size, subjects)
    add_arrangements(rng, stream, subjects, max(4, size // 500))
    # how much a killed worker leaves uncommitted (routed again by its successor)
    commit_interval_s = rng.choice((0.2, 1.0, 5.0))
    print(f"  commit interval {commit_interval_s}s")
    workers = [hub.worker(name, commit_interval_s=commit_interval_s) for name in ("w1", "w2")]
    wait_split(hub, *workers)

    failed: list[BaseException] = []

    def publish() -> None:
        try:
            for chunk in chunks(stream.items, 500):
                hub.publish_many(chunk)
        except BaseException as exc:  # re-raised in the test's thread
            failed.append(exc)

    def alive() -> None:
        assert not failed, failed

    publisher = threading.Thread(target=publish, name="publisher", daemon=True)
    publisher.start()
    try:
        kill_and_restart(
            hub,
            workers,
            rng=rng,
            size=size,
            kills=kills,
            progress_timeout_s=scale.pick(120, 900),
            alive=alive,
            commit_interval_s=commit_interval_s,
        )
        publisher.join(timeout=scale.pick(120, 900))
        assert not publisher.is_alive(), "publishing did not finish"
        alive()
        wait_caught_up(hub, hub.workers, timeout_s=scale.pick(180, 1800))
        wait_split(hub, *workers)  # loaded: audits a killed worker owed are written by now
    except AssertionError as exc:
        raise AssertionError(f"seed {seed}: {exc}") from exc
    routed_at = time.monotonic()

    everyone: Counter[str] = Counter()
    for partner in partner_ids(hub):
        everyone += stream.deliveries(partner)
    read_s = scale.pick(60, 600)
    deadline = time.monotonic() + read_s
    while topic_size(hub, hub.catalogue.disclosures.name) < len(everyone):
        assert time.monotonic() < deadline, f"seed {seed}: audit entries missing"
        time.sleep(0.5)
    problems = check_inboxes(hub, stream, read_s)
    problems += check_audit(hub, everyone, read_s)
    problems += check_audit_chain(hub, read_s)
    problems += check_dead_letters(hub, stream, read_s)

    skipped = sum(int((w.status() or {}).get("stats", {}).get("skipped", 0)) for w in hub.workers)
    print(
        f"  {size} records ({len(stream.invalid)} invalid, {len(stream.replayed)} copies), "
        f"{kills} kills, "
        f"{sum(everyone.values())} deliveries, {len(hub.workers)} worker processes, "
        f"{skipped} writes skipped as already written; routed in "
        f"{routed_at - started:.0f}s, checked in {time.monotonic() - routed_at:.0f}s"
    )
    assert not problems, f"seed {seed}:\n" + "\n".join(problems)
