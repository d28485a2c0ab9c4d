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

import io
import random
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from rich.console import Console

from connectors.demo import feed_demo, generate
from consent.model import ConsentChangeType
from consent.runtime import ConsentRuntime
from hub.kafka import admin_client
from hub.monitor.runtime import MonitorProcess, run_monitor
from hub.monitor.topic import MonitorCodec, read_events
from hub.router.options import RouterOptions
from hub.router.runtime import RouterProcess
from schemas.models import ClientProfile, ErasureNotice, PersonRecord
from schemas.vocabulary import Purpose
from tests.consent.factories import terms
from tests.consent.feed import read_topic
from tests.consent.test_logs import json_logging  # noqa: F401 - fixture
from tests.monitor.test_pipeline import _cli
from tests.plugins.reliability import Scale
from tests.reliability.privacy import Identifiers, find, identifiers_of, nine_digit_numbers
from tests.reliability.streams import Subject, routed_everything
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids
from tests.router.helpers.workers import wait_routed
from tests.router.test_withdrawal import CATEGORIES
from topics.partners import load_partners

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

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
    done = [0]  # rounds published so far
    errors: list[BaseException] = []

    def stream() -> None:
        try:
            for _ in range(rounds):
                for subject in subjects:
                    record = records.profile(subject.pseudonym)
                    started = time.monotonic()
                    hub.publish(record)
                    subject.published.append((str(record.event_id), started, time.monotonic()))
                done[0] += 1
        except BaseException as exc:
            errors.append(exc)

    publisher = threading.Thread(target=stream, daemon=True)
    publisher.start()
    withdrawn = rng.sample(subjects, len(subjects) // 2)
    moments = sorted(rng.sample(range(1, rounds - 1), len(withdrawn)))
    for subject, at in zip(withdrawn, moments, strict=True):  # at random points of the stream
        while done[0] < at and publisher.is_alive():
            time.sleep(rng.uniform(0.0, 0.02))
        subject.withdraw_asked_at = time.monotonic()
        hub.withdraw(given[subject.pseudonym])  # returns once acknowledged
        subject.withdrawn_at = time.monotonic()
    publisher.join(900)
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

    # records before the end are delivered if the router routes them before the end (it
    # decides on its own clock); on a machine too busy for that, try a longer period
    for window in (scale.pick(8, 20), 30, 90):
        who = records.subject()
        end = datetime.now(UTC) + timedelta(seconds=window)
        hub.grant(who, to=[RECIPIENT], purposes=PURPOSES, categories=CATEGORIES, valid_until=end)
        before = [records.profile(who) for _ in range(3)]
        for record in before:
            hub.publish(record)
        routed_everything(hub, [who])
        delivered = Counter(delivered_ids(hub.inbox(RECIPIENT)))
        if [delivered[r.event_id] for r in before] == [1, 1, 1]:
            break
        assert datetime.now(UTC) >= end, "a record routed before the end was not delivered"
    else:
        raise AssertionError("the router never routed the records before their consent ended")

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
    assert [c.key for c in changes].count(who.encode()) == 1  # its grant: the end needed none


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


# --- (iii) monitor topics and reports, (iv) logs ------------------------------------------------


_CLIENT_DUMPS = re.compile(r"FetchResponse|ProduceRequest|Sending \(key=|Response from")
"""What the Kafka clients log at DEBUG: requests and responses, record values included."""


def _routed(router: RouterProcess, count: int, timeout_s: float = 240) -> None:
    wait_routed(router, count, timeout_s=timeout_s, interval_s=0.3)


def _router(hub: Hub, level: str) -> RouterProcess:
    """A router worker logging at ``level`` (``Hub.worker`` logs at INFO)."""
    options = RouterOptions.for_embedded_broker(
        metrics_port=0, status_file=hub.tmp / "router.status.json", log_level=level
    )
    router = RouterProcess(hub.settings, options, log_file=hub.tmp / "router.log").start()
    hub.workers.append(router)
    return router


def _security_off(hub: Hub) -> None:
    """HUB_SECURITY_ENABLED=false from here on: plaintext records on the topics."""
    hub.settings = hub.settings.model_copy(update={"security_enabled": False})
    hub.security = False


def _monitor_topics(hub: Hub) -> list[str]:
    admin = admin_client(hub.settings)
    try:
        names = admin.list_topics()
    finally:
        admin.close()
    prefix = hub.settings.topic_prefix
    return sorted(n for n in names if n.startswith(prefix) and "monitor" in n)


def _blobs(hub: Hub, topic: str) -> list[str]:
    """Every key, value and header of ``topic``, as text (latin-1: every byte kept)."""
    texts = []
    for record in hub.read(topic, decode=False):
        for blob in (record.key, record.raw, *record.headers.values()):
            if blob:
                texts.append(blob.decode("latin-1"))
    return texts


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Record security on with the router at DEBUG; the full size also runs with record
    security off (plaintext records on the topics), the router at INFO: at DEBUG it is a
    known leak (test_regression_router_debug_log_dumped_record_values)."""
    if "router_level" in metafunc.fixturenames:
        full = metafunc.config.getoption("--reliability") == "full"
        variants = [("on", "DEBUG"), ("off", "INFO")] if full else [("on", "DEBUG")]
        metafunc.parametrize(("security", "router_level"), variants)


def test_no_direct_identifier_in_monitor_topics_reports_or_logs(
    hub: Hub,
    scale: Scale,
    security: str,
    router_level: str,
    json_logging: io.StringIO,  # noqa: F811 - the fixture imported above
) -> None:
    """A realistic run (demo people with BSNs, names, addresses; their consents; every
    partner's connector) through the router and the monitor worker, then every byte of
    every monitor topic, the monitor's reports (worker and CLI; JSON, CSV, HTML) and the
    logs of the router worker (DEBUG), the monitor worker, the consent service and the
    connectors (in this process: JSON at DEBUG, and the connectors' console) are scanned
    for the identifiers of the input."""
    if security == "off":
        _security_off(hub)
    demo = hub.tmp / "demo"
    generate(demo, people=scale.pick(40, 400), seed=2027, partners=load_partners())
    router = _router(hub, router_level)
    monitor = MonitorProcess(hub.settings, log_file=hub.tmp / "monitor.log", loglevel="DEBUG")
    monitor.start()
    console_out = io.StringIO()
    codec = MonitorCodec(hub.codec.registry)
    try:
        router.wait_ready(90)
        settings = hub.settings.model_copy(
            update={"database_url": f"sqlite:///{hub.tmp / 'consent.db'}"}
        )
        with ConsentRuntime(settings) as runtime:
            summary = feed_demo(
                settings,
                demo,
                registry_url=hub.settings.schema_registry_url,
                console=Console(file=console_out, width=200),
                consent_service=runtime.service,
            )
            assert summary.consents_granted > 0
            _routed(router, summary.published)
            events = list(read_events(hub.settings, hub.catalogue.monitor_events.name, codec))
            assert events, "the run produced no monitor event"
            monitor.wait_ready(120, until=lambda s: s["events"] >= len(events))
            reports = []
            for period in sorted({e.period for e in events}):
                for fmt in ("json", "csv", "html"):
                    answer = httpx.get(monitor.report_url(period, fmt=fmt), timeout=60)
                    assert answer.status_code == 200, answer.text[:500]
                    reports.append(answer.text)
                    reports.append(
                        _cli(hub.settings, "report", "--period", period, "--format", fmt)
                    )
    finally:
        monitor.stop()
        router.stop()

    outboxes = [hub.catalogue.outbox(str(p.id)).name for p in load_partners()]
    published = [r.record for topic in outboxes for r in hub.read(topic)]
    ids = identifiers_of(published)
    for kind in ("bsns", "names", "streets", "births", "emails", "phones", "pseudonyms"):
        assert getattr(ids, kind), f"the input has no {kind}"
    delivered = [r for p in load_partners() for r in hub.inbox(str(p.id))]
    assert any(isinstance(r.record, PersonRecord) for r in delivered), "nothing was delivered"

    topics = _monitor_topics(hub)
    assert hub.catalogue.monitor_events.name in topics
    monitor_texts = [t for topic in topics for t in _blobs(hub, topic)]
    monitor_texts += [e.model_dump_json() for e in events] + reports
    leaks = find("\n".join(monitor_texts), ids)
    assert leaks == [], f"identifiers on the monitor topics or in the reports: {leaks[:20]}"

    logs = {
        "router worker": (hub.tmp / "router.log").read_text(errors="replace"),
        "monitor worker": (hub.tmp / "monitor.log").read_text(errors="replace"),
        "consent service and connectors (log)": json_logging.getvalue(),
        "connectors (console)": console_out.getvalue(),
    }
    assert all(logs[w] for w in ("router worker", "monitor worker")), "a worker logged nothing"
    # and every BSN of the input files, also of rows the connectors refused
    for path in demo.rglob("*"):
        if path.is_file():
            ids.bsns |= nine_digit_numbers(path.read_text(errors="replace"))
    found = {
        where: find(text, ids, pseudonyms=False, bsn_like=False, in_numbers=False)
        for where, text in logs.items()
    }
    assert {where: leak for where, leak in found.items() if leak} == {}


def test_the_identifier_scan_finds_what_it_looks_for() -> None:
    person = records.profile(records.subject())
    ids = identifiers_of([person])
    assert find("nothing personal: m1-" + "c" * 32 + " 2021-03/04 Groot Amsterdam", ids) == []
    contact = person.contact
    assert contact is not None
    born = person.date_of_birth
    assert born is not None
    planted = [
        f"x{person.bsn}y",
        "111222333",
        f"Dear {person.family_name},",
        f"value=b'\\x02\\x0c{person.given_name}\\x02'",  # a client's debug dump of a value
        f"{person.given_name}",
        f"{contact.street} 12",
        str(contact.postal_code).replace(" ", ""),
        born.strftime("%d-%m-%Y"),
        str(contact.email).upper(),
        str(contact.phone),
        f"subject {person.client_pseudonym}",
    ]
    for text in planted:
        assert find(text, ids), text


def test_regression_a_float_in_a_debug_log_was_taken_for_a_date_of_birth() -> None:
    """The full-size run (400 people) failed on the router's DEBUG log: faust's timer line
    ``since_epoch=7.096260197002266`` holds 19700226, the birth date of one of them. In
    logs only digits of their own count now; in bytes any run still does."""
    ids = Identifiers(births={"19700226", "1970-02-26"}, bsns={"111222333"})
    line = "Timer _flush woke up - iteration=33 since_epoch=7.096260197002266 offset=9111222333"
    assert find(line, ids, pseudonyms=False, bsn_like=False, in_numbers=False) == []
    assert find(line, ids) == ["BSN 111222333", "date of birth 19700226"]  # bytes: any run
    for leak in ("born 19700226,", "dob=1970-02-26", "bsn='111222333'"):
        assert find(leak, ids, pseudonyms=False, bsn_like=False, in_numbers=False), leak


def test_regression_router_debug_log_dumped_record_values(hub: Hub) -> None:
    """With record security off and the router at DEBUG, BSNs and names of the records it
    routes appeared in its log (aiokafka's fetch response dumps). hub/router/app.py
    run_app now keeps the clients' loggers at WARNING (quiet_client_loggers)."""
    _security_off(hub)
    router = _router(hub, "DEBUG")
    who = records.subject()
    hub.grant(who, to=[RECIPIENT], purposes=PURPOSES, categories=CATEGORIES)
    router.wait_ready(90)
    sent = [records.profile(who) for _ in range(3)]
    for record in sent:
        hub.publish(record)
    hub.wait_for(
        lambda: hub.inbox(RECIPIENT),
        lambda rs: {r.event_id for r in sent} <= set(delivered_ids(rs)),
        timeout_s=60,
        what="the deliveries",
    )
    router.stop()
    text = (hub.tmp / "router.log").read_text(errors="replace")
    assert "[DEBUG]" in text
    assert (
        find(text, identifiers_of(sent), pseudonyms=False, bsn_like=False, in_numbers=False) == []
    )


def test_regression_monitor_worker_debug_log_dumped_kafka_traffic(hub: Hub) -> None:
    """``rmt-hub monitor aggregate --loglevel DEBUG`` left the Kafka clients' loggers at
    DEBUG: the worker's log carried their requests and responses (record values included).
    hub/monitor/stream.py run_app now keeps them at WARNING (quiet_client_loggers)."""
    log = hub.tmp / "monitor-debug.log"
    with run_monitor(hub.settings, log_file=log, loglevel="DEBUG") as monitor:
        monitor.wait_ready(120)
    text = log.read_text(errors="replace")
    assert "[DEBUG]" in text  # the worker itself logs at DEBUG
    assert _CLIENT_DUMPS.findall(text) == []
