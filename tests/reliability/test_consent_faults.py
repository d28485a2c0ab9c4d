"""Fault tests of the consent service: a real ``rmt-hub consent serve`` process (SQLite in
tmp) on the test broker, and a real router worker.

* The service is stopped (SIGTERM) and killed (SIGKILL) mid-stream while grants and
  withdrawals go through its HTTP API and partners publish records; after each restart
  the stream goes on. Checked by event id: every change the service stored - so every
  change the API acknowledged - is on the consent feed exactly once, in order per subject;
  records published after their grant was acknowledged (and before a withdrawal was
  asked) reach every recipient of the consent exactly once and nobody else; records
  published after a withdrawal was acknowledged reach nobody; every delivery is audited.
* The broker loses the consent feed (the topic is deleted and recreated while the service
  runs): the relay rebuilds the feed from its register without waiting for a new change.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from kafka.admin import NewTopic

from consent.runtime import ConsentRuntime
from hub.kafka import admin_client
from tests.consent.feed import event_ids, read_topic
from tests.reliability.consent_process import ConsentService
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub

pytestmark = pytest.mark.integration

PUBLISHER = "uwv"
RECIPIENTS = ("gemeente-amsterdam", "gemeente-utrecht")
OTHERS = ("sbb", "gemeente-tilburg", "gemeente-rotterdam", "mbo-amsterdam", "sp-werkgevers")
CATEGORIES = ("identity", "labour_market_profile", "education", "arrangement")


def grant_body(subject: str) -> dict[str, object]:
    """UWV records that the two municipalities may receive the subject's profile."""
    return {
        "subject": subject,
        "controller": PUBLISHER,
        "job_seeker_category": "WW_ENTRANT",
        "recipients": [{"partner_id": p} for p in RECIPIENTS],
        "purposes": ["ARRANGEMENT", "WARM_HANDOVER"],
        "data_categories": list(CATEGORIES),
        "legal_basis": "CONSENT",
        "notice": {"version": "rmt-privacy-2026.1", "url": "https://example.org/privacy"},
        "collection_method": "IN_PERSON_SIGNED",
    }


@pytest.fixture
def service(hub: Hub) -> Iterator[ConsentService]:
    started = ConsentService(hub).start()
    try:
        yield started
    finally:
        started.stop()


def _feed(hub: Hub) -> list[str]:
    return event_ids(read_topic(hub.settings, hub.catalogue.consent_changes.name))


def _wait(predicate: object, what: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


# --- the consent feed lost by the broker -----------------------------------------------------


def _recreate(hub: Hub) -> None:
    """Delete the consent feed topic and create it again, empty, with as many partitions."""
    topic = hub.catalogue.consent_changes.name
    admin = admin_client(hub.settings)
    try:
        admin.delete_topics([topic])
        deadline = time.monotonic() + 30
        while topic in admin.list_topics():
            assert time.monotonic() < deadline, f"{topic} was not deleted"
            time.sleep(0.1)
        admin.create_topics([NewTopic(topic, hub.settings.topic_partitions, 1)])
    finally:
        admin.close()


def test_regression_feed_not_rebuilt_after_topic_loss(hub: Hub, service: ConsentService) -> None:
    """The relay verified its feed only when it (re)gained leadership or a send was in
    doubt: a feed topic lost while the service ran stayed empty until the next consent
    change. Now it checks the feed periodically and republishes it from the register."""
    with service.api() as api:
        for _ in range(4):
            response = api.post("/v1/consents", json=grant_body(records.subject()))
            assert response.status_code == 201, response.text
    before = _feed(hub)
    assert len(before) == 4
    _recreate(hub)
    assert _feed(hub) == []
    # no new change: the running service must notice the loss by itself
    _wait(lambda: sorted(_feed(hub)) == sorted(before), "the feed to be rebuilt", 60)
    assert Counter(_feed(hub)) == Counter(before)  # once each


def test_verify_feed_reports_what_it_requeued(hub: Hub) -> None:
    """``OutboxRelay.verify_feed()`` (for the broker-loss detection of hub.continuity):
    0 while the feed is intact, the number of changes requeued once the topic lost them,
    which the next cycle republishes."""
    settings = hub.settings.model_copy(
        update={"database_url": f"sqlite:///{hub.tmp / 'verify.db'}"}
    )
    runtime = ConsentRuntime(settings)
    try:
        from tests.consent.factories import terms  # noqa: PLC0415

        for _ in range(3):
            runtime.service.grant(terms(records.subject()), actor="officer:test")
        assert runtime.relay.verify_feed() == 0
        _recreate(hub)
        assert runtime.relay.verify_feed() == 3
        assert runtime.relay.run_once() == 3
        assert runtime.relay.verify_feed() == 0
        assert len(_feed(hub)) == 3
    finally:
        runtime.stop()
