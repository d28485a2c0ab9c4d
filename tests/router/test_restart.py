"""Exactly-once effect across a crash: two workers share the partitions, one is killed
with SIGKILL mid-stream and started again; every valid record reaches its recipient
exactly once, every delivery is audited exactly once, and the consent state the workers
rebuild is the same as before."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from hub.router.ids import delivery_id
from schemas.models import ClientProfile, PersonRecord
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub
from tests.router.helpers.workers import consent_state, wait_split

pytestmark = pytest.mark.integration

SUBJECTS = 16
RECORDS = 240
DUPLICATES = 20
KILL_AT = 80
CATEGORIES = (DataCategory.IDENTITY, DataCategory.LABOUR_MARKET_PROFILE, DataCategory.EDUCATION)


def test_sigkill_mid_stream_delivers_every_record_exactly_once(hub: Hub) -> None:
    subjects = [records.subject() for _ in range(SUBJECTS)]
    for who in subjects:
        hub.grant(
            who, to=["gemeente-amsterdam"], purposes=[Purpose.ARRANGEMENT], categories=CATEGORIES
        )
    # Offsets are committed only on rebalances: the killed worker leaves everything it
    # routed uncommitted, so its successor routes it again and must skip every delivery.
    first, second = hub.worker("w1", commit_interval_s=60), hub.worker("w2", commit_interval_s=60)
    wait_split(hub, first, second)
    before = consent_state(first, second)
    assert sorted(before) == [str(p) for p in range(hub.settings.topic_partitions)]
    assert sum(len(s) for s in before.values()) == SUBJECTS

    stream: list[PersonRecord] = [records.profile(subjects[i % SUBJECTS]) for i in range(RECORDS)]
    published = threading.Event()
    reached_kill = threading.Event()

    def publish() -> None:
        for index, record in enumerate(stream):
            hub.publish(record)
            if index == KILL_AT:
                reached_kill.set()
            if index % 10 == 0:
                time.sleep(0.05)
        for record in stream[:DUPLICATES]:  # at-least-once publishers repeat themselves
            hub.publish(record)
        published.set()

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    assert reached_kill.wait(60)
    first.kill()
    time.sleep(1.0)
    restarted = hub.worker("w1-restarted", commit_interval_s=60)
    assert published.wait(120)
    thread.join(10)

    expected = {r.event_id for r in stream}
    inbox = hub.wait_for(
        lambda: hub.inbox("gemeente-amsterdam"),
        lambda rs: (
            expected <= {r.record.event_id for r in rs if isinstance(r.record, ClientProfile)}
        ),
        timeout_s=90,
        what="every record of the stream",
    )
    delivered = Counter(r.record.event_id for r in inbox if isinstance(r.record, ClientProfile))
    assert set(delivered) == expected
    assert max(delivered.values()) == 1, [e for e, n in delivered.items() if n > 1]
    assert Counter(r.ce_id for r in inbox) == Counter(
        {delivery_id(e, "gemeente-amsterdam"): 1 for e in expected}
    )

    wait_split(hub, second, restarted)
    wanted = Counter({r.ce_id: 1 for r in inbox})
    audit = hub.wait_for(  # audit writes follow their deliveries (after the acks)
        hub.audit,
        lambda rs: Counter(r.record.event_id for r in rs) == wanted,  # type: ignore[union-attr]
        timeout_s=30,
        what="one audit entry per delivery",
    )
    audited = Counter(r.record.event_id for r in audit)  # type: ignore[union-attr]
    assert audited == wanted
    assert consent_state(second, restarted) == before
    skipped = sum((w.status() or {})["stats"]["skipped"] for w in (second, restarted))
    assert skipped >= DUPLICATES  # replays, and what the killed worker had routed
