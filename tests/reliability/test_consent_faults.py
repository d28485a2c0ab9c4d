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

import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from kafka.admin import NewTopic

from consent.model import ConsentEvent
from consent.runtime import ConsentRuntime
from hub.ids import ClientPseudonym
from hub.kafka import admin_client, create_topics
from schemas.models import ClientProfile
from tests.consent.feed import event_ids, read_topic
from tests.plugins.reliability import Scale
from tests.reliability.consent_process import ConsentService
from tests.reliability.streams import Subject, routed_everything
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

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
        create_topics(admin, [NewTopic(topic, hub.settings.topic_partitions, 1)])
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
        assert not runtime.relay.has_pending()
        _recreate(hub)
        assert runtime.relay.verify_feed() == 3
        assert runtime.relay.has_pending()
        assert runtime.relay.run_once() == 3
        assert not runtime.relay.has_pending()
        assert runtime.relay.verify_feed() == 0
        assert len(_feed(hub)) == 3
    finally:
        runtime.stop()


# --- the service stopped and killed mid-stream ------------------------------------------------


class Stream:
    """Grants and withdrawals through the API in one thread, records in another."""

    def __init__(self, hub: Hub, service: ConsentService, rng: random.Random) -> None:
        self.hub = hub
        self.service = service
        self.rng = rng
        self.subjects: list[Subject] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.calls = 0
        self.unanswered = 0

    def _guard(self, target: object) -> threading.Thread:
        def run() -> None:
            try:
                target()  # type: ignore[operator]
            except BaseException as exc:
                self.errors.append(exc)
                self.stopping.set()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def start(self) -> list[threading.Thread]:
        return [self._guard(self._consents), self._guard(self._records)]

    def _call(self, method: str, path: str, body: object = None) -> httpx.Response | None:
        """One API call; None when the service died under it (no answer)."""
        self.service.up.wait(120)
        self.calls += 1
        try:
            with self.service.api() as api:
                return api.request(method, path, json=body)
        except httpx.TransportError:
            self.unanswered += 1
            return None

    def _consents(self) -> None:
        while not self.stopping.is_set():
            granted = [s for s in self.subjects if s.granted_at and s.withdraw_asked_at is None]
            if len(granted) >= 3 and self.rng.random() < 0.35:
                self._withdraw(self.rng.choice(granted))
            else:
                self._grant()
            time.sleep(self.rng.uniform(0.0, 0.05))
        for subject in self.subjects:  # withdrawals the service died under: ask again
            if subject.withdraw_asked_at is not None and subject.withdrawn_at is None:
                self._withdraw(subject)

    def _grant(self) -> None:
        subject = Subject(records.subject())
        with self.lock:
            self.subjects.append(subject)
        response = self._call("POST", "/v1/consents", grant_body(subject.pseudonym))
        if response is None:
            subject.grant_unanswered = True
            return
        assert response.status_code == 201, response.text
        subject.consent_id = response.json()["id"]
        subject.granted_at = time.monotonic()

    def _withdraw(self, subject: Subject) -> None:
        if subject.withdraw_asked_at is None:
            subject.withdraw_asked_at = time.monotonic()
        while True:  # idempotent: repeat until answered
            response = self._call("POST", f"/v1/consents/{subject.consent_id}/withdraw")
            if response is not None:
                assert response.status_code == 200, response.text
                subject.withdrawn_at = time.monotonic()
                return

    def _records(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                subjects = list(self.subjects[-12:])
            for subject in subjects:
                record = records.profile(subject.pseudonym)
                started = time.monotonic()
                self.hub.publish(record)
                subject.published.append((str(record.event_id), started, time.monotonic()))
            time.sleep(0.05)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The full size also runs the service on PostgreSQL (CI: SQLite, as ``serve`` defaults)."""
    if "database" in metafunc.fixturenames:
        full = metafunc.config.getoption("--reliability") == "full"
        metafunc.parametrize("database", ["sqlite", "postgresql"] if full else ["sqlite"])


def test_consent_service_stopped_and_killed_mid_stream(
    hub: Hub, scale: Scale, database: str, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(scale.pick(7, 11))
    hub.consent_encoding = "bare"
    url = None if database == "sqlite" else request.getfixturevalue("postgres_url")
    worker = hub.worker()
    service = ConsentService(hub, database_url=url).start()
    try:
        worker.wait_ready(90)
        stream = Stream(hub, service, rng)
        threads = stream.start()
        endings = [signal.SIGTERM, signal.SIGKILL] * scale.pick(1, 6)
        for how in endings:
            time.sleep(rng.uniform(0.4, 1.5))
            assert not stream.errors, stream.errors
            code = service.end(how)
            assert code == (0 if how is signal.SIGTERM else -signal.SIGKILL)
            time.sleep(rng.uniform(0.0, 0.5))  # records flow while it is down
            service.start()
        time.sleep(1.0)
        stream.stopping.set()
        for thread in threads:
            thread.join(180)
        assert not stream.errors, stream.errors
        subjects = list(stream.subjects)
        routed_everything(hub, [s.pseudonym for s in subjects])
        _check_ingested(hub, service, subjects)
    finally:
        service.stop()

    stored = _check_feed(hub, service, subjects)
    must, mustnot = _check_deliveries(hub, subjects, {e.subject for e in stored})
    _check_audit(hub)
    print(
        f"{len(subjects)} subjects, {len(stored)} changes, {stream.calls} calls "
        f"({stream.unanswered} unanswered), {must} must / {mustnot} must-not records"
    )
    assert must > 0
    assert mustnot > 0


def _check_feed(hub: Hub, service: ConsentService, subjects: list[Subject]) -> list[ConsentEvent]:
    """Every stored change on the feed exactly once, in register order per subject, and
    every acknowledged grant stored."""
    store = service.store()
    try:
        stored = store.events()
        assert store.pending_outbox() == []
    finally:
        store.close()
    feed = read_topic(hub.settings, hub.catalogue.consent_changes.name)
    on_feed = Counter(event_ids(feed))
    assert {e: n for e, n in on_feed.items() if n != 1} == {}
    assert set(on_feed) == {e.event_id for e in stored}
    by_subject: dict[str, list[str]] = {}
    for record in feed:
        by_subject.setdefault(record.key.decode(), []).extend(event_ids([record]))
    for subject in {e.subject for e in stored}:
        assert by_subject[subject] == [e.event_id for e in stored if e.subject == subject]
    acknowledged = {s.consent_id for s in subjects if s.granted_at is not None}
    assert acknowledged <= {e.consent_id for e in stored}
    return stored


def _check_deliveries(hub: Hub, subjects: list[Subject], stored: set[str]) -> tuple[int, int]:
    """Each record reached each recipient exactly once when it must, never when it must
    not, at most once otherwise, and never anyone else; returns (must, must not)."""
    inboxes = {partner: Counter(delivered_ids(hub.inbox(partner))) for partner in RECIPIENTS}
    others: set[str] = set()
    for partner in OTHERS:
        others |= set(delivered_ids(hub.inbox(partner)))
    must = mustnot = 0
    for subject in subjects:
        if subject.grant_unanswered and subject.pseudonym not in stored:
            subject.grant_unanswered = False  # never stored: nothing may flow
        for event_id, started, _ in subject.published:
            expected = subject.expected(started)
            assert event_id not in others, f"{event_id} reached a partner not in the consent"
            allowed = {True: (1,), False: (0,), None: (0, 1)}[expected]
            for partner in RECIPIENTS:
                got = inboxes[partner][event_id]
                assert got in allowed, f"{event_id} of {subject} reached {partner} {got} times"
            must += expected is True
            mustnot += expected is False
    return must, mustnot


def _check_ingested(hub: Hub, service: ConsentService, subjects: list[Subject]) -> None:
    """The consent service (killed mid-stream too) ingests every disclosure of the audit
    topic into its register exactly once: each subject's access report is complete."""
    wanted: dict[str, set[str]] = {}
    for partner in RECIPIENTS:
        for delivery in hub.inbox(partner):
            if isinstance(delivery.record, ClientProfile):
                wanted.setdefault(delivery.record.client_pseudonym, set()).add(delivery.ce_id)

    def ingested() -> dict[str, list[str]]:
        store = service.store()
        try:
            return {
                s: [str(d.disclosure_id) for d in store.disclosures_for(ClientPseudonym(s))]
                for s in {s.pseudonym for s in subjects}
            }
        finally:
            store.close()

    _wait(
        lambda: all(set(ingested()[s]) >= ids for s, ids in wanted.items()),
        "the service to ingest every disclosure",
        120,
    )
    for subject, ids in ingested().items():
        assert sorted(ids) == sorted(wanted.get(subject, set())), subject


def _check_audit(hub: Hub) -> None:
    """Every delivered profile has exactly one disclosure audit entry."""
    audited = Counter(str(r.record.event_id) for r in hub.audit())  # type: ignore[union-attr]
    for partner in RECIPIENTS:
        for delivery in hub.inbox(partner):
            if isinstance(delivery.record, ClientProfile):
                assert audited[delivery.ce_id] == 1, f"delivery {delivery.ce_id} not audited"


def test_regression_consent_serve_ignored_the_routers_disclosures(
    hub: Hub, service: ConsentService
) -> None:
    """``rmt-hub consent serve`` read the router's audit topic with a bare-Avro decoder,
    but the router writes the Confluent wire format: every disclosure was skipped as
    undecodable and the subject's access report stayed empty. Now the service reads both."""
    worker = hub.worker()
    who = records.subject()
    with service.api() as api:
        granted = api.post("/v1/consents", json=grant_body(who))
        assert granted.status_code == 201, granted.text
    worker.wait_ready(90)
    record = records.profile(who)
    hub.publish(record)
    delivered = {
        partner: hub.wait_for(
            lambda p=partner: hub.inbox(p),  # type: ignore[misc]
            lambda rs: record.event_id in delivered_ids(rs),
            what=f"the delivery to {partner}",
        )
        for partner in RECIPIENTS
    }
    ce_ids = {
        next(r.ce_id for r in rs if isinstance(r.record, ClientProfile))
        for rs in delivered.values()
    }

    def reported() -> set[str]:
        with service.api() as api:
            answer = api.get(f"/v1/subjects/{who}/access-report")
        assert answer.status_code == 200, answer.text
        return {str(d["recipient"]) for d in answer.json()["disclosures"]}

    _wait(lambda: reported() == set(RECIPIENTS), "the disclosures in the access report", 60)
    store = service.store()
    try:
        stored = store.disclosures_for(ClientPseudonym(who))
    finally:
        store.close()
    assert {d.recipient for d in stored} == set(RECIPIENTS)
    assert {d.disclosure_id for d in stored} == ce_ids


def test_regression_change_after_topic_loss_left_the_feed_incomplete(hub: Hub) -> None:
    """A change published right after the feed topic was recreated got an offset the
    outbox had already recorded for that partition; the relay marked it published and
    carried on, and the changes the topic had lost stayed lost. The relay now treats an
    acknowledged offset that is not above the last recorded one as a lost partition:
    everything is on the feed again, once, as soon as the change returns."""
    settings = hub.settings.model_copy(
        update={"database_url": f"sqlite:///{hub.tmp / 'backwards.db'}"}
    )
    runtime = ConsentRuntime(settings)  # not started: no periodic verification
    try:
        from tests.consent.factories import terms  # noqa: PLC0415

        who = records.subject()
        for _ in range(3):  # one subject: one partition, offsets 0, 1, 2
            runtime.service.grant(terms(who), actor="officer:test")
        before = _feed(hub)
        _recreate(hub)
        runtime.service.grant(terms(who), actor="officer:test")  # returns once published
        after = _feed(hub)
        assert Counter(after) == Counter({e: 1 for e in before}) + Counter(
            {e.event_id: 1 for e in runtime.store.events()[-1:]}
        )
        assert runtime.store.pending_outbox() == []
    finally:
        runtime.stop()
