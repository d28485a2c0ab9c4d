"""The router's lag (hub.router.runtime.router_lag): every outbox record published and not
yet committed by the router's group, from fetch high watermarks (never end_offsets)."""

from __future__ import annotations

import pytest

from hub.router.runtime import router_lag
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub
from tests.router.helpers.workers import wait_caught_up

pytestmark = pytest.mark.integration


def test_lag_counts_every_unrouted_record_and_drops_to_zero_once_routed(hub: Hub) -> None:
    subjects = [records.subject() for _ in range(8)]
    for who in subjects:
        hub.grant(
            who,
            to=["gemeente-amsterdam"],
            purposes=[Purpose.ARRANGEMENT],
            categories=[DataCategory.IDENTITY, DataCategory.EDUCATION],
        )
    assert sum(router_lag(hub.settings, hub.catalogue).values()) == 0

    # sent in batches: the embedded broker answers end_offsets() with the start of the
    # last batch + 1, short of the end; the lag must count every record all the same
    published = hub.publish_many(records.profile(subjects[i % 8]) for i in range(120))
    lag = router_lag(hub.settings, hub.catalogue)
    outbox = hub.catalogue.outbox("uwv").name
    assert sum(lag.values()) == published
    assert {tp.topic for tp, n in lag.items() if n} == {outbox}

    worker = hub.worker(commit_interval_s=0.5)
    wait_caught_up(hub, [worker], timeout_s=120)
    assert sum(router_lag(hub.settings, hub.catalogue).values()) == 0
