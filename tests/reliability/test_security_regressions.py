"""Security regressions, on the real broker with a real router worker:

* a consent withdrawn mid-stream never lets a record through whose publication started
  after the withdrawal was acknowledged;
* a consent that reaches its end time stops the flow at that time, without any consent
  change being published: the router compares a consent's period with its own clock when
  it routes a record (processing time), never with the record's ``occurred_at``, which the
  publisher writes (a backdated record gets nothing either); and the consent service's
  own sweep records the expiry, which the router turns into an erasure notice;
* neither the monitor topics (nor the monitor's reports) nor the logs of the router
  worker, the monitor worker, the consent service and the connectors contain a direct
  identifier of the input (BSN, name, street, postal code, date of birth, e-mail, phone)
  or a partner's client pseudonym (monitor topics and reports).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from consent.model import ConsentChangeType
from consent.runtime import ConsentRuntime
from schemas.models import ClientProfile, ErasureNotice
from schemas.vocabulary import Purpose
from tests.consent.factories import terms
from tests.consent.feed import read_topic
from tests.reliability.conftest import Scale
from tests.reliability.streams import Subject, routed_everything
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids
from tests.router.test_withdrawal import CATEGORIES

pytestmark = pytest.mark.integration

RECIPIENT = "gemeente-amsterdam"
PURPOSES = (Purpose.ARRANGEMENT, Purpose.WARM_HANDOVER)


# --- (i) withdrawal mid-stream ------------------------------------------------------------------


def test_withdrawal_mid_stream_never_leaks_a_later_record(hub: Hub, scale: Scale) -> None:
    rng = random.Random(scale.pick(5, 17))
    worker = hub.worker()
    subjects = [Subject(records.subject()) for _ in range(scale.pick(8, 30))]
    given = {}
    for subject in subjects:
        given[subject.pseudonym] = hub.grant(
            subject.pseudonym, to=[RECIPIENT], purposes=PURPOSES, categories=CATEGORIES
        )
        subject.granted_at = time.monotonic()
    worker.wait_ready(90)
    rounds = scale.pick(25, 400)
    stop = threading.Event()
    errors: list[BaseException] = []

    def stream() -> None:
        try:
            for _ in range(rounds):
                for subject in subjects:
                    record = records.profile(subject.pseudonym)
                    started = time.monotonic()
                    hub.publish(record)
                    subject.published.append((str(record.event_id), started, time.monotonic()))
                if stop.is_set():
                    return
        except BaseException as exc:
            errors.append(exc)

    publisher = threading.Thread(target=stream, daemon=True)
    publisher.start()
    withdrawn = rng.sample(subjects, len(subjects) // 2)
    for subject in withdrawn:  # at random moments while the stream runs
        time.sleep(rng.uniform(0.05, 0.6))
        subject.withdraw_asked_at = time.monotonic()
        hub.withdraw(given[subject.pseudonym])  # returns once acknowledged
        subject.withdrawn_at = time.monotonic()
    time.sleep(0.5)
    stop.set()
    publisher.join(300)
    assert not errors, errors
    routed_everything(hub, [s.pseudonym for s in subjects])

    inbox = hub.inbox(RECIPIENT)
    delivered = Counter(delivered_ids(inbox))
    leaked, must, mustnot = [], 0, 0
    for subject in subjects:
        for event_id, started, _ in subject.published:
            expected = subject.expected(started)
            if expected is False and delivered[event_id]:
                leaked.append(event_id)
            if expected is True:
                assert delivered[event_id] == 1, f"{event_id} delivered {delivered[event_id]}x"
            assert delivered[event_id] <= 1
            must += expected is True
            mustnot += expected is False
    assert leaked == [], f"{len(leaked)} record(s) delivered after their withdrawal was done"
    assert mustnot > 0
    assert must > 0
    notices = {r.record.client_pseudonym for r in inbox if isinstance(r.record, ErasureNotice)}
    # an erasure notice to the recipient for each withdrawn subject it received data about
    received = {s.pseudonym for s in withdrawn if any(delivered[e] for e, _, _ in s.published)}
    assert notices == received


# --- (ii) expiry ----------------------------------------------------------------------------------


def test_expired_consent_stops_flow_at_its_end_time(hub: Hub, scale: Scale) -> None:
    worker = hub.worker()
    who = records.subject()
    warm = records.subject()  # a subject whose records show the worker is routing
    hub.grant(warm, to=[RECIPIENT], purposes=PURPOSES, categories=CATEGORIES)
    worker.wait_ready(90)
    first = records.profile(warm)
    hub.publish(first)
    hub.wait_for(
        lambda: hub.inbox(RECIPIENT),
        lambda rs: first.event_id in delivered_ids(rs),
        timeout_s=60,
        what="the first delivery",
    )

    end = datetime.now(UTC) + timedelta(seconds=scale.pick(8, 20))
    hub.grant(who, to=[RECIPIENT], purposes=PURPOSES, categories=CATEGORIES, valid_until=end)
    before = [records.profile(who) for _ in range(3)]
    for record in before:
        hub.publish(record)
    hub.wait_for(
        lambda: hub.inbox(RECIPIENT),
        lambda rs: {r.event_id for r in before} <= set(delivered_ids(rs)),
        timeout_s=60,
        what="the records before the end",
    )
    assert datetime.now(UTC) < end, "the records before the end were routed too late"

    while datetime.now(UTC) < end + timedelta(milliseconds=200):
        time.sleep(0.1)
    after = [records.profile(who), records.referral(who)]
    # a record that claims to have happened before the end, published after it
    after.append(records.profile(who, occurred_at=end - timedelta(seconds=5)))
    for record in after:
        hub.publish(record)
    routed_everything(hub, [who])

    delivered = Counter(delivered_ids(hub.inbox(RECIPIENT)))
    assert [delivered[r.event_id] for r in before] == [1, 1, 1]
    assert [delivered[r.event_id] for r in after] == [0, 0, 0]
    changes = read_topic(hub.settings, hub.catalogue.consent_changes.name)
    assert len(changes) == 2  # the two grants: the end needed no change


def test_consent_service_sweep_records_the_expiry_and_the_router_announces_it(
    hub: Hub, scale: Scale
) -> None:
    """``ConsentService.sweep_expired`` (run by the relay's loop) appends one EXPIRED
    change at the end of the period; the router tells the recipient to erase."""
    worker = hub.worker()
    settings = hub.settings.model_copy(
        update={"database_url": f"sqlite:///{hub.tmp / 'expiry.db'}"}
    )
    who = records.subject()
    with ConsentRuntime(settings) as runtime:
        worker.wait_ready(90)
        end = datetime.now(UTC) + timedelta(seconds=scale.pick(3, 10))
        granted = runtime.service.grant(
            terms(
                who,
                controller="uwv",
                job_seeker_category="WW_ENTRANT",
                recipients=[{"partner_id": RECIPIENT}],
                purposes=[p.value for p in PURPOSES],
                data_categories=[c.value for c in CATEGORIES],
                valid_until=end,
            ),
            actor="officer:test",
        )
        record = records.profile(who)
        hub.publish(record)
        inbox = hub.wait_for(
            lambda: hub.inbox(RECIPIENT),
            lambda rs: any(isinstance(r.record, ErasureNotice) for r in rs),
            timeout_s=90,
            what="the erasure notice of the expiry",
        )
        history = runtime.service.history(granted.id)
    assert [e.change for e in history] == [ConsentChangeType.GIVEN, ConsentChangeType.EXPIRED]
    assert history[1].occurred_at == end
    changes = read_topic(hub.settings, hub.catalogue.consent_changes.name)
    assert len(changes) == 2  # given, expired: once each
    (notice,) = [r.record for r in inbox if isinstance(r.record, ErasureNotice)]
    assert notice.consent_id == granted.id
    assert notice.change is ConsentChangeType.EXPIRED
    assert notice.consent_event_id == history[1].event_id
    profiles = [r for r in inbox if isinstance(r.record, ClientProfile)]
    assert len(profiles) <= 1  # the profile, if it was routed before the end
