"""The router core without a broker: state, dedupe, refusals, erasure, handover."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hub.config import load_settings
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.router.ids import delivery_id, erasure_id, tombstone_id
from hub.router.processing import Inbound, RouterCore, Write
from hub.router.state import ConsentTable, PartitionState
from hub.router.validation import Rejection, partition_of
from schemas.models import (
    CanonicalRecord,
    ConsentChange,
    DeadLetter,
    DisclosureEvent,
    ErasureNotice,
    PersonalArrangement,
    Recipient,
    RejectionNotice,
    RoutingState,
)
from schemas.models.enums import ConsentChangeType, DeadLetterReason, LegalBasis
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.router.helpers import records
from tests.router.helpers.cores import router_core
from topics import build_catalogue

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
PARTITIONS = 4
SETTINGS = load_settings(topic_prefix="core")
CATALOGUE = build_catalogue(SETTINGS)


def make_core() -> RouterCore:
    """A router core over the test catalogue, its clock stopped at NOW."""
    return router_core(CATALOGUE, partitions=PARTITIONS, clock=lambda: NOW)


@pytest.fixture
def core() -> RouterCore:
    return make_core()


def change(
    who: str,
    *to: str,
    kind: ConsentChangeType = ConsentChangeType.GIVEN,
    consent_id: str = "c-1",
    categories: tuple[DataCategory, ...] = (
        DataCategory.IDENTITY,
        DataCategory.LABOUR_MARKET_PROFILE,
        DataCategory.ARRANGEMENT,
    ),
    recorded: datetime = NOW,
    purposes: tuple[Purpose, ...] = (Purpose.ARRANGEMENT, Purpose.RESPONSIBILITY_TRANSFER),
    recipients: tuple[Recipient, ...] = (),
    legal_basis: LegalBasis = LegalBasis.CONSENT,
) -> ConsentChange:
    return ConsentChange(
        event_id=EventId(str(uuid.uuid4())),
        occurred_at=recorded,
        source_partner=PartnerId("hub"),
        consent_id=ConsentId(consent_id),
        subject_pseudonym=ClientPseudonym(who),
        change=kind,
        controller=PartnerId("uwv"),
        recipients=[Recipient(partner_id=PartnerId(p)) for p in to] + list(recipients),
        purposes=list(purposes),
        data_categories=list(categories),
        legal_basis=legal_basis,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=30),
        actor="test",
        recorded_at=recorded,
        record_hash="0" * 64,
    )


def inbound(record: CanonicalRecord, offset: int = 0, partner: str | None = None) -> Inbound:
    key = str(getattr(record, "client_pseudonym", "")).encode()
    topic = CATALOGUE.outbox(partner or str(getattr(record, "source_partner", "uwv"))).name
    return Inbound(topic, partition_of(key, PARTITIONS), offset, key, b"raw")


def state_for(who: str) -> PartitionState:
    return PartitionState(partition_of(who.encode(), PARTITIONS))


def route(
    core: RouterCore, state: PartitionState, record: CanonicalRecord, **kw: object
) -> list[Write]:
    return core.handle(state, inbound(record, **kw), record)  # type: ignore[arg-type]


def inboxes(writes: list[Write]) -> dict[str, list[Write]]:
    out: dict[str, list[Write]] = {}
    for write in writes:
        out.setdefault(write.topic.split(".")[-2], []).append(write)
    return out


# --- the consent table ----------------------------------------------------------------------------


def test_consent_changes_apply_idempotently_and_an_end_is_final() -> None:
    table = ConsentTable()
    given = change("psn-a", "gemeente-amsterdam")
    assert table.apply(given) is None
    assert table.apply(given) is None  # the same event again
    withdrawn = given.model_copy(
        update={"event_id": EventId("w-1"), "change": ConsentChangeType.WITHDRAWN}
    )
    ended = table.apply(withdrawn)
    assert ended is not None
    assert ended.consent_id == "c-1"
    assert ended.event_id == "w-1"
    late_copy = given.model_copy(update={"event_id": EventId("g-late")})
    assert table.apply(late_copy) is None
    (only,) = table.consents_of("psn-a")
    assert only.status.value == "WITHDRAWN"
    assert [e.event_id for e in table.ended()] == ["w-1"]


def test_an_older_copy_of_given_terms_does_not_win() -> None:
    table = ConsentTable()
    newer = change("psn-a", "gemeente-amsterdam", recorded=NOW)
    older = change("psn-a", "uwv", recorded=NOW - timedelta(hours=1))
    table.apply(newer)
    table.apply(older)
    (only,) = table.consents_of("psn-a")
    assert [r.partner_id for r in only.recipients] == ["gemeente-amsterdam"]


def test_a_subject_with_an_unreadable_change_gets_nothing() -> None:
    table = ConsentTable()
    table.apply(change("psn-a", "gemeente-amsterdam"))
    table.block("psn-a")
    assert table.consents_of("psn-a") == ()


def test_a_change_applies_only_after_its_subjects_last_change() -> None:
    table = ConsentTable()
    first = change("psn-a", "uwv").model_copy(update={"record_hash": "1" * 64})
    second = change("psn-a", "sbb", consent_id="c-2").model_copy(update={"record_hash": "2" * 64})
    assert not table.follows(second, "1" * 64)  # its predecessor is not applied yet
    assert table.follows(first, None)
    table.apply(first)
    assert not table.follows(second, None)  # written as if it were the first
    assert table.follows(second, "1" * 64)
    table.apply(second)
    assert table.follows(first, None)  # a copy of an applied change: apply ignores it
    assert not table.follows(change("psn-a", "uwv"), "1" * 64)  # a fork of the chain
    assert table.follows(change("psn-b", "uwv"), None)  # each subject has its own chain


def test_snapshots_are_equal_for_equal_histories() -> None:
    one, two = ConsentTable(), ConsentTable()
    changes = [change("psn-a", "uwv"), change("psn-b", "sbb", consent_id="c-2")]
    for c in changes:
        one.apply(c)
    for c in reversed(changes):
        two.apply(c)
    assert one.snapshot() == two.snapshot()


# --- routing --------------------------------------------------------------------------------------


def test_fail_closed_without_consent(core: RouterCore) -> None:
    who = records.subject()
    state = state_for(who)
    writes = route(core, state, records.profile(who))
    assert [w.record.avro_name for w in writes] == ["nl.rmt.hub.RoutingState"]  # type: ignore[union-attr]


def test_a_delivery_is_written_once(core: RouterCore) -> None:
    who = records.subject()
    state = state_for(who)
    state.consents.apply(change(who, "gemeente-amsterdam"))
    profile = records.profile(who)
    first = route(core, state, profile)
    delivered = inboxes(first)["gemeente-amsterdam"]
    assert [w.event_id for w in delivered] == [delivery_id(profile.event_id, "gemeente-amsterdam")]
    assert delivered[0].delivery is not None
    assert delivered[0].delivery.purpose is Purpose.ARRANGEMENT
    # the same record again (at-least-once, a replay): nothing new
    assert route(core, state, profile, offset=7) == []
    assert core.skipped == 1


def test_a_refusal_is_a_dead_letter_and_a_notice_once(core: RouterCore) -> None:
    who = records.subject()
    state = state_for(who)
    bad = records.profile(who, bsn="123456789")
    writes = route(core, state, bad, offset=3)
    by_type = {type(w.record).__name__: w for w in writes}
    dead = by_type["DeadLetter"].record
    notice = by_type["RejectionNotice"].record
    assert isinstance(dead, DeadLetter)
    assert isinstance(notice, RejectionNotice)
    assert dead.reason is notice.reason is DeadLetterReason.BSN_INVALID
    assert dead.source_offset == notice.source_offset == 3
    assert by_type["RejectionNotice"].topic == CATALOGUE.inbox("uwv").name
    assert route(core, state, bad, offset=3) == []  # processed again after a crash


def test_an_undecodable_record_is_refused_under_its_header_id(core: RouterCore) -> None:
    state = PartitionState(0)
    message = Inbound(CATALOGUE.outbox("sbb").name, 0, 9, None, b"junk", (("ce_id", b"e-9"),))
    writes = core.handle(
        state, message, Rejection(DeadLetterReason.DECODE_ERROR, "magic byte"), record_type=None
    )
    dead = next(w.record for w in writes if isinstance(w.record, DeadLetter))
    assert dead.event_id == "e-9"
    notice_write = next(w for w in writes if isinstance(w.record, RejectionNotice))
    assert notice_write.key is not None  # inboxes are compacted: every record has a key


def test_state_is_written_and_reprocessing_skips_validation(core: RouterCore) -> None:
    who = records.subject()
    state = state_for(who)
    route(core, state, records.profile(who))
    arrangement = records.arrangement(who)
    writes = route(core, state, arrangement)
    (snapshot,) = [w.record for w in writes if isinstance(w.record, RoutingState)]
    assert snapshot.first_responsible == records.UWV
    assert [a.arrangement_id for a in snapshot.arrangements] == [arrangement.arrangement_id]
    assert arrangement.event_id in state.applied
    # after a transfer, the UWV's own arrangement would be refused - but this one was
    # accepted before: routing it again (a crash before the commit) must not refuse it
    state.subject(who).first_responsible = records.GEMEENTE
    again = route(core, state, arrangement, offset=5)
    assert not [w for w in again if isinstance(w.record, DeadLetter)]


def test_erasure_goes_to_those_who_received_under_the_consent(core: RouterCore) -> None:
    who = records.subject()
    state = state_for(who)
    given = change(who, "gemeente-amsterdam", "uwv")
    state.consents.apply(given)
    route(core, state, records.referral(who))  # uwv publishes; the gemeente receives it
    assert core.erasures(state) == []
    withdrawn = given.model_copy(
        update={"event_id": EventId("w-2"), "change": ConsentChangeType.WITHDRAWN}
    )
    ended = state.consents.apply(withdrawn)
    assert ended is not None
    state.pending_erasures.append(ended)
    writes = core.erasures(state)
    assert [w.topic for w in writes] == [CATALOGUE.inbox("gemeente-amsterdam").name] * 2
    notice, grave = writes
    assert isinstance(notice.record, ErasureNotice)
    assert notice.event_id == erasure_id("w-2", "gemeente-amsterdam")
    assert notice.record.still_covered is False
    assert grave.record is None
    assert grave.event_id == tombstone_id("w-2", "gemeente-amsterdam")
    assert grave.key == who.encode()
    state.pending_erasures.extend(state.consents.ended())  # as a reload does
    assert core.erasures(state) == []


def test_no_tombstone_while_another_consent_still_covers(core: RouterCore) -> None:
    who = records.subject()
    state = state_for(who)
    first = change(who, "gemeente-amsterdam", consent_id="c-1")
    state.consents.apply(first)
    route(core, state, records.referral(who))
    state.consents.apply(change(who, "gemeente-amsterdam", consent_id="c-2"))
    ended = state.consents.apply(
        first.model_copy(update={"event_id": EventId("w-3"), "change": ConsentChangeType.WITHDRAWN})
    )
    assert ended is not None
    state.pending_erasures.append(ended)
    (notice,) = core.erasures(state)
    assert isinstance(notice.record, ErasureNotice)
    assert notice.record.still_covered is True


def test_the_arrangement_is_handed_over_on_a_transfer(core: RouterCore) -> None:
    who = records.subject()
    state = state_for(who)
    state.consents.apply(change(who, "gemeente-amsterdam", categories=(DataCategory.ARRANGEMENT,)))
    route(core, state, records.profile(who))
    arrangement = records.arrangement(who)
    state_writes = route(core, state, arrangement)
    handed_id = delivery_id(arrangement.event_id, "gemeente-amsterdam")
    # the gemeente got the arrangement already (consent covers it) - take it back to see
    # the transfer hand it over
    state.written.discard(handed_id)
    assert state_writes
    assert arrangement.arrangement_id is not None
    moved = records.transfer(who, arrangement.arrangement_id)
    writes = inboxes(route(core, state, moved))["gemeente-amsterdam"]
    kinds = sorted(type(w.record).__name__ for w in writes)
    assert kinds == ["PersonalArrangement", "ResponsibilityTransfer"]
    handed = next(w for w in writes if isinstance(w.record, PersonalArrangement))
    assert handed.event_id == handed_id
    assert state.subject(who).first_responsible == records.GEMEENTE
    assert state.subject(who).former_responsible == {"uwv"}


def test_missing_audits_are_recovered_once(core: RouterCore) -> None:
    state = PartitionState(1)
    event = DisclosureEvent(
        event_id=EventId("d-1"),
        occurred_at=NOW,
        source_partner=PartnerId("hub"),
        client_pseudonym=ClientPseudonym("psn-x"),
        recipient=PartnerId("sbb"),
        recipient_kind=PartnerKind.SBB,
        purpose=Purpose.SCHOOLING,
        consent_ids=["c-9"],
        policy_version="2026.1",
        source_event_id=EventId("e-1"),
        publisher=PartnerId("uwv"),
        record_type="nl.rmt.hub.Referral",
        inbox_topic="x",
        payload_sha256="0" * 64,
    )
    (write,) = core.missing_audits(state, [event])
    assert write.topic == CATALOGUE.disclosures.name
    assert write.record == event
    assert core.missing_audits(state, [event]) == []
    assert state.disclosed == {"psn-x": {"sbb": {"c-9"}}}
