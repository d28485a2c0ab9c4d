"""The router feeds the national monitor: accepted records become monitor events.

Over the real broker: a profile, an intake and an arrangement published by a partner
come out of a router worker as the monitor events :func:`hub.monitor.derive.derive`
makes of them - on the monitor topic, wire format, CloudEvents headers, keyed by the
monitor pseudonym - whether or not the person gave any consent; a replayed record
writes no second event; nothing on the monitor topic identifies the person or carries
the partners' pseudonym, and the monitor pseudonym reaches no topic a partner reads; the
monitor subject and the previous arrangement version survive a restart.

Without a broker: what :class:`~hub.router.monitoring.MonitorFeed` derives again on a
replay after a restart, records before any profile, out-of-order versions, failures.
"""

from __future__ import annotations

import base64
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.config import HubSettings, load_settings
from hub.ids import ClientPseudonym
from hub.monitor.aggregate import Aggregator
from hub.monitor.derive import DeriveContext, derive, subject_from_profile
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.router.monitoring import MonitorFeed
from hub.router.processing import Inbound, RouterCore, Write
from hub.router.state import PartitionState, SubjectState
from hub.router.validation import partition_of
from hub.serde.wire import MAGIC_BYTE
from schemas.menu_card import Instrument
from schemas.models import (
    ClientProfile,
    DeadLetter,
    MonitorEvent,
    PersonalArrangement,
    PersonRecord,
    RoutingState,
)
from schemas.models.enums import ArrangementStatus, MonitorEventType, ServiceStatus
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.plugins.hub import make_hub
from tests.router.helpers import records
from tests.router.helpers.cores import router_core
from tests.router.helpers.hubtest import Hub, Received, delivered_ids
from topics import build_catalogue

KEY = bytes(range(32))
KEYS = MonitorPseudonymiser(MonitorKeyring({1: KEY}))
PARTITIONS = 4


def bsn(rng: random.Random) -> str:
    """A random BSN passing the eleven-test."""
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        check = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True)) % 11
        if check < 10 and any(digits):
            return "".join(map(str, digits)) + str(check)


def person(who: str, rng: random.Random) -> ClientProfile:
    return records.profile(who, bsn=bsn(rng))


def identifiers(profile: ClientProfile) -> list[str]:
    """The direct identifiers in ``profile`` and its client pseudonym, as text."""
    born = profile.date_of_birth.isoformat() if profile.date_of_birth else None
    found = [profile.bsn, profile.given_name, profile.family_name, born]
    assert all(found)
    return [*(str(f) for f in found), profile.client_pseudonym]


def agreed(who: str) -> PersonalArrangement:
    """Version 1 of an arrangement in force: two additional services, planned."""
    return records.arrangement(
        who,
        records.service(Instrument.SCHOOLING, 150_000),
        records.service(Instrument.LANGUAGE_EDUCATION, 40_000),
        status=ArrangementStatus.AGREED,
        revision=1,
    )


def finished(first: PersonalArrangement) -> PersonalArrangement:
    """Version 2: finished, every service finished (paid)."""
    assert first.services is not None
    return first.model_copy(
        update={
            "event_id": records.arrangement(first.client_pseudonym).event_id,
            "revision": 2,
            "status": ArrangementStatus.FINISHED,
            "services": [
                s.model_copy(update={"status": ServiceStatus.FINISHED}) for s in first.services
            ],
        }
    )


def expected_events(
    profile: ClientProfile,
    record: PersonRecord,
    previous: PersonalArrangement | None = None,
) -> list[MonitorEvent]:
    """What the monitor should get for ``record`` (derive, called as the router should)."""
    context = DeriveContext(
        subject=subject_from_profile(profile, KEYS),
        publisher_kind=PartnerKind.UWV,
        pseudonymiser=KEYS,
        previous_arrangement=previous,
    )
    return derive(record, context)


def by_id(events: list[MonitorEvent]) -> dict[str, MonitorEvent]:
    return {e.event_id: e for e in events}


# --- over the broker ---------------------------------------------------------------------------


@pytest.fixture
def monitored(hub_settings: HubSettings, registry_url: str, tmp_path: Path) -> Iterator[Hub]:
    """A hub whose workers hold the monitor key of this test."""
    settings = hub_settings.model_copy(
        update={"monitor_key": SecretStr(base64.urlsafe_b64encode(KEY).decode())}
    )
    made = make_hub(settings, registry_url, tmp_path)
    try:
        yield made
    finally:
        made.close()


def monitor_topic(hub: Hub) -> list[Received]:
    return hub.read(hub.catalogue.monitor_events.name)


def events_of(received: list[Received]) -> list[MonitorEvent]:
    return [r.record for r in received if isinstance(r.record, MonitorEvent)]


def wait_events(hub: Hub, want: set[str], what: str) -> list[Received]:
    return hub.wait_for(
        lambda: monitor_topic(hub),
        lambda rs: want <= {e.event_id for e in events_of(rs)},
        what=what,
    )


@pytest.mark.integration
def test_accepted_records_become_monitor_events_once_and_identify_nobody(
    monitored: Hub,
) -> None:
    hub = monitored
    rng = random.Random(7)
    worker = hub.worker()
    # `who` gave no consent at all; `other` consented to the municipality receiving data
    who, other = records.subject(), records.subject()
    hub.grant(
        other,
        to=["gemeente-amsterdam"],
        purposes=[Purpose.ARRANGEMENT],
        categories=(
            DataCategory.IDENTITY,
            DataCategory.RESIDENCE,
            DataCategory.LABOUR_MARKET_PROFILE,
            DataCategory.EDUCATION,
            DataCategory.BENEFIT_STATUS,
            DataCategory.INTAKE,
            DataCategory.ARRANGEMENT,
        ),
    )
    worker.wait_ready(60)
    expected: list[MonitorEvent] = []
    profiles: dict[str, ClientProfile] = {}
    published: dict[str, list[PersonRecord]] = {}
    for subject in (who, other):
        profile, intake, plan = person(subject, rng), records.intake(subject), agreed(subject)
        profiles[subject], published[subject] = profile, [profile, intake, plan]
        for record in published[subject]:
            hub.publish(record)
        expected += expected_events(profile, intake) + expected_events(profile, plan)
    types = Counter(e.event_type for e in expected)
    assert types == {
        MonitorEventType.INTAKE: 2,
        MonitorEventType.SELECTION: 2,
        MonitorEventType.ARRANGEMENT_STARTED: 2,
        MonitorEventType.INSTRUMENT_USED: 4,
    }
    found = wait_events(hub, set(by_id(expected)), "the monitor events of both people")
    assert by_id(events_of(found)) == by_id(expected)  # no consent needed, same content

    # on the wire: the monitor pseudonym as key and partitioner input, CloudEvents headers
    for received in found:
        event = received.record
        assert isinstance(event, MonitorEvent)
        assert received.key == event.monitor_pseudonym.encode()
        assert received.partition == partition_of(received.key, PARTITIONS)
        assert received.value is not None
        assert received.value[0] == MAGIC_BYTE
        assert received.headers["ce_id"] == event.event_id.encode()
        assert received.headers["ce_type"] == b"nl.rmt.hub.MonitorEvent"
        assert received.headers["ce_source"] == b"hub"

    # replays (at-least-once publishers): the three records again, a referral twice;
    # then a marker on the same outbox and partition, so routed after all of them
    referral = records.referral(who)
    marker = records.outcome(who, source_partner="uwv")
    for record in (*published[who], referral, referral, marker):
        hub.publish(record)
    extra = expected_events(profiles[who], referral) + expected_events(profiles[who], marker)
    found = wait_events(hub, set(by_id(extra)), "the referral and the marker")
    ids = Counter(e.event_id for e in events_of(found))
    assert set(ids) == set(by_id(expected + extra))
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    # (with record security on, the replay guard refuses the replays before routing; without
    # it, the router routes them again and skips the ids it wrote: no second event either way)

    # nothing on the monitor topic identifies the people or carries their client pseudonym
    blobs = b"".join(
        (r.key or b"") + (r.value or b"") + b"".join(r.headers.values()) for r in found
    )
    for profile in profiles.values():
        for secret in identifiers(profile):
            assert secret.encode() not in blobs, secret
    # ... and the monitor pseudonyms reach no topic a partner reads (only the routing state)
    linkage = {e.linkage_pseudonym.encode() for e in expected if e.linkage_pseudonym}
    assert linkage  # the intakes carry it
    pseudonyms = {e.monitor_pseudonym.encode() for e in expected} | linkage
    inbox = hub.wait_for(
        lambda: hub.inbox("gemeente-amsterdam"),
        lambda rs: {profiles[other].event_id} <= set(delivered_ids(rs)),
        what="the consented profile in the municipality's inbox",
    )
    assert delivered_ids(inbox)
    partner_topics = [t.name for t in hub.catalogue.inboxes()]
    for topic in (*partner_topics, hub.catalogue.dead_letter.name, hub.catalogue.disclosures.name):
        stored = hub.read(topic, decode=False)
        raw = b"".join(
            (r.key or b"") + (r.value or b"") + b"".join(r.headers.values()) for r in stored
        )
        assert not [p for p in pseudonyms if p in raw], topic
    states = [r.record for r in hub.read(hub.catalogue.routing_state.name)]
    kept = {s.monitor_pseudonym for s in states if isinstance(s, RoutingState)}
    assert kept  # the routing state keeps the person's monitor pseudonym ...
    assert not {p.decode() for p in linkage} & kept  # ... but no linkage pseudonym (own key)
    assert not {e.monitor_pseudonym for e in expected} & kept  # per period: kept nowhere


@pytest.mark.integration
def test_the_monitor_state_survives_a_restart(monitored: Hub) -> None:
    hub = monitored
    worker = hub.worker("w1")
    who = records.subject()
    profile, intake, first = person(who, random.Random(11)), records.intake(who), agreed(who)
    worker.wait_ready(60)
    for record in (profile, intake, first):
        hub.publish(record)
    started = expected_events(profile, intake) + expected_events(profile, first)
    wait_events(hub, set(by_id(started)), "the arrangement's events")
    worker.kill()  # what it routed may not be committed: the next worker routes it again

    second = hub.worker("w2")
    second.wait_ready(60)
    done = finished(first)
    hub.publish(done)
    # derived against the version before, with the person's subject: both from the state
    ended = expected_events(profile, done, previous=first)
    assert {e.event_type for e in ended} == {
        MonitorEventType.ARRANGEMENT_FINISHED,
        MonitorEventType.INSTRUMENT_USED,
    }
    assert all(
        e.paid is not None for e in ended if e.event_type is MonitorEventType.INSTRUMENT_USED
    )
    found = wait_events(hub, set(by_id(ended)), "the finished arrangement's events")
    events = events_of(found)
    assert by_id(events) == by_id(started + ended)
    # the monitor counts each event once, whatever the restart replayed
    aggregator = Aggregator()
    aggregator.apply_all(events)
    assert aggregator.applied == len(by_id(events))
    assert hub.dead_letters() == []


# --- without a broker --------------------------------------------------------------------------

SETTINGS = load_settings(topic_prefix="feed")
CATALOGUE = build_catalogue(SETTINGS)


class _Broken(MonitorFeed):
    def _events(self, *args: object, **kwargs: object) -> list[MonitorEvent]:
        raise RuntimeError("a bug in the monitor feed")


def _core(feed: MonitorFeed | None = None) -> RouterCore:
    return router_core(
        CATALOGUE,
        partitions=PARTITIONS,
        clock=lambda: datetime(2026, 11, 1, tzinfo=UTC),
        monitor=feed
        or MonitorFeed(KEYS, topic=CATALOGUE.monitor_events.name, partitions=PARTITIONS),
    )


def _route(core: RouterCore, state: PartitionState, record: PersonRecord) -> list[Write]:
    key = record.client_pseudonym.encode()
    topic = CATALOGUE.outbox(record.source_partner).name
    return core.handle(state, Inbound(topic, state.partition, 0, key, b"raw"), record)


def _monitor(writes: list[Write]) -> list[MonitorEvent]:
    return [w.record for w in writes if isinstance(w.record, MonitorEvent)]


def _reloaded(state: PartitionState, writes: list[Write]) -> PartitionState:
    """The state a loader builds from the routing-state snapshots among ``writes``."""
    fresh = PartitionState(state.partition)
    for write in writes:
        if isinstance(write.record, RoutingState):
            snapshot = write.record
            fresh.subjects[snapshot.client_pseudonym] = SubjectState.from_record(snapshot)
            fresh.applied[snapshot.source_event_id] = snapshot.source_event_partner
            fresh.written.add(snapshot.event_id)
    return fresh


def _state_for(who: str) -> PartitionState:
    return PartitionState(partition_of(who.encode(), PARTITIONS))


def test_a_replay_after_a_restart_derives_the_latest_versions_again_exactly() -> None:
    core = _core()
    who = records.subject()
    state = _state_for(who)
    profile, intake, first = person(who, random.Random(3)), records.intake(who), agreed(who)
    changed = first.model_copy(
        update={
            "event_id": records.arrangement(who).event_id,
            "revision": 2,
            "status": ArrangementStatus.ACTIVE,
            "services": [
                s.model_copy(update={"status": ServiceStatus.STARTED}) for s in first.services or []
            ],
        }
    )
    writes: list[Write] = []
    firsts: dict[str, list[MonitorEvent]] = {}
    for record in (profile, intake, first, changed):
        routed = _route(core, state, record)
        firsts[record.event_id] = _monitor(routed)
        writes += routed
    assert firsts[changed.event_id] == expected_events(profile, changed, previous=first)
    assert [e.event_type for e in firsts[changed.event_id]] == [
        MonitorEventType.ARRANGEMENT_CHANGED
    ]

    # in the same assignment a replay writes nothing: the ids are known
    assert _monitor(_route(core, state, changed)) == []

    # after a restart (state from the routing-state topic, ids of the monitor topic not
    # known): derived again - exactly - except the version a later one superseded
    fresh = _reloaded(state, writes)
    snapshot = fresh.subjects[who]
    assert snapshot.monitor == state.subjects[who].monitor
    assert snapshot.monitor_prior == {first.arrangement_id: first}
    assert _monitor(_route(core, fresh, profile)) == []
    assert _monitor(_route(core, fresh, intake)) == firsts[intake.event_id]
    assert _monitor(_route(core, fresh, first)) == []
    assert _monitor(_route(core, fresh, changed)) == firsts[changed.event_id]
    assert core.monitor is not None
    assert core.monitor.stats["not_rederived"] == 1


def test_no_profile_no_monitor_events_and_the_record_is_still_routed() -> None:
    core = _core()
    who = records.subject()
    state = _state_for(who)
    writes = _route(core, state, records.intake(who))
    assert _monitor(writes) == []
    assert [type(w.record) for w in writes] == [RoutingState]  # accepted
    assert core.monitor is not None
    assert core.monitor.stats["no_subject"] == 1


def test_an_out_of_order_version_gives_no_monitor_events() -> None:
    core = _core()
    who = records.subject()
    state = _state_for(who)
    first = agreed(who)
    done = finished(first)
    for record in (person(who, random.Random(5)), first, done):
        _route(core, state, record)
    late = first.model_copy(update={"event_id": records.arrangement(who).event_id})
    writes = _route(core, state, late)
    assert _monitor(writes) == []
    assert not [w for w in writes if isinstance(w.record, DeadLetter)]
    assert core.monitor is not None
    assert core.monitor.stats["superseded"] == 1


def test_a_failing_monitor_feed_neither_refuses_nor_holds_a_record() -> None:
    feed = _Broken(KEYS, topic=CATALOGUE.monitor_events.name, partitions=PARTITIONS)
    core = _core(feed)
    who = records.subject()
    state = _state_for(who)
    _route(core, state, person(who, random.Random(9)))
    writes = _route(core, state, agreed(who))
    assert [type(w.record) for w in writes] == [RoutingState]
    assert feed.stats["failed"] == 2


def test_the_monitor_subject_holds_no_direct_identifier() -> None:
    who = ClientPseudonym(records.subject())
    profile = person(who, random.Random(13))
    state = SubjectState(monitor=subject_from_profile(profile, KEYS))
    snapshot = state.to_record(who, event_id="s", source_event_id="e", now=datetime.now(UTC))
    monitor = {k: v for k, v in snapshot.model_dump().items() if k.startswith("monitor_")}
    text = repr(monitor)
    for secret in identifiers(profile):
        assert secret not in text
    assert SubjectState.from_record(snapshot).monitor == state.monitor
