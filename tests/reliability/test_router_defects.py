"""Defects the reliability suites found in hub/router/processing.py, reproduced
in-process, without a broker; fixed, and these tests guard the fixes.

* a record under an event id the router had accepted skipped every rule (taken for a
  replay): now a replay skips only the rules that read the subject's state;
* the refusal of a record with a key of more than a MiB could not be written (the
  dead letter and rejection notice carried the key), stalling its partition: now a
  refusal carries at most 64 KiB of the key and 768 KiB of the value.

* with record security off, a record from another outbox under an accepted event id
  that names its own outbox's owner passed the stateless rules and was taken for a
  replay: now the state (and the routing-state snapshot) keeps the publishing partner of
  every applied event id. With security on the replay guard tells as well
  (tests/router/test_replays.py).
"""

from __future__ import annotations

import pytest

from hub.config import load_settings
from hub.router.processing import Inbound, RouterCore
from hub.router.state import PartitionState, SubjectState
from hub.router.validation import Rejection, partition_of
from schemas.models import CanonicalRecord, DeadLetter, RejectionNotice, RoutingState
from schemas.models.enums import DeadLetterReason
from tests.router.helpers import records
from tests.router.helpers.cores import router_core
from topics import build_catalogue

PARTITIONS = 4
SETTINGS = load_settings(topic_prefix="defects", topic_partitions=PARTITIONS)
CATALOGUE = build_catalogue(SETTINGS)


def _core() -> RouterCore:
    return router_core(CATALOGUE, partitions=PARTITIONS)


class _Outboxes:
    def __init__(self, who: str) -> None:
        self.core = _core()
        self.key = who.encode()
        self.partition = partition_of(self.key, PARTITIONS)
        self.state = PartitionState(self.partition)
        self.offset = 0

    def handle(self, record: CanonicalRecord, partner: str = "uwv") -> list[object]:
        self.offset += 1
        message = Inbound(
            CATALOGUE.outbox(partner).name, self.partition, self.offset, self.key, b"", ()
        )
        return [
            w.record
            for w in self.core.handle(self.state, message, record, record_type=record.avro_name)
        ]


def test_regression_a_different_record_under_an_applied_event_id_skipped_every_rule() -> None:
    """A record whose event_id was in state.applied was taken for a replay and skipped
    validation, whatever it held; a ResponsibilityTransfer so 'replayed' without to_party
    reached the assert in _handover (dead-lettered as OTHER, 'the hub failed')."""
    who = records.subject()
    outboxes = _Outboxes(who)
    arrangement = records.arrangement(who)
    assert arrangement.arrangement_id is not None
    transfer = records.transfer(who, arrangement.arrangement_id)
    for record in (records.profile(who), arrangement, transfer):
        assert not [w for w in outboxes.handle(record) if isinstance(w, DeadLetter)]
    broken = transfer.model_copy(update={"to_party": None})  # same event id, no to_party
    written = outboxes.handle(broken)
    letters = [w for w in written if isinstance(w, DeadLetter)]
    assert letters, "refused with a reason"
    assert letters[0].reason is not DeadLetterReason.OTHER


def test_regression_an_event_id_from_another_outbox_skipped_every_rule() -> None:
    """Another partner's outbox could reuse the event id of a record the router accepted
    (the replay guard is per outbox topic, state.applied per partition): the record was
    taken for a replay and no rule was checked - here gemeente publishes as UWV."""
    who = records.subject()
    outboxes = _Outboxes(who)
    profile = records.profile(who)
    outboxes.handle(profile)
    again = records.profile(who, municipality_code="9999")  # another record...
    again = again.model_copy(update={"event_id": profile.event_id})  # ...under its id
    written = outboxes.handle(again, partner="gemeente-amsterdam")
    assert [w for w in written if isinstance(w, DeadLetter)], "refused"


def test_regression_the_refusal_of_a_record_with_a_huge_key_stalled_its_partition() -> None:
    """RouterCore.refuse wrote the dead letter and the rejection notice with the refused
    record's key as their Kafka key (and the dead letter carried it whole): a key of more
    than 1 MiB made both writes exceed the producer's max_request_size, and the engine
    retried that batch forever (observed on the real broker)."""
    who = records.subject()
    outboxes = _Outboxes(who)
    message = Inbound(
        CATALOGUE.outbox("uwv").name, outboxes.partition, 7, b"k" * 1_500_000, b"x", ()
    )
    writes = outboxes.core.refuse(
        outboxes.state,
        message,
        outboxes.core.publisher_of(message.topic),
        Rejection(DeadLetterReason.KEY_MISMATCH, "the record key must be the pseudonym"),
        record=None,
        record_type=None,
    )
    assert writes
    assert all(len(w.key or b"") <= 64 * 1024 for w in writes)
    (dead,) = [w.record for w in writes if isinstance(w.record, DeadLetter)]
    assert dead.original_key == b"k" * 64 * 1024
    assert "1,500,000 bytes" in dead.message  # says it was cut
    (notice,) = [w.record for w in writes if isinstance(w.record, RejectionNotice)]
    assert len(notice.record_key or "") <= 64 * 1024


@pytest.mark.parametrize("rebuilt", [False, True], ids=["same-worker", "state-rebuilt"])
def test_regression_a_record_from_another_outbox_under_an_accepted_event_id_passed_as_a_replay(
    rebuilt: bool,
) -> None:
    """With record security off (no replay guard to tell a redelivery from a record new to
    its outbox), a record from another outbox reusing an accepted event id was taken for a
    replay: the rules that read the state were skipped (here: only UWV may publish a WW
    entrant's profile). The state now keeps the publishing partner with every applied
    event id, and the routing-state snapshot carries it (source_event_partner), so a
    worker that rebuilt its state from the topic knows it too."""
    who = records.subject()
    outboxes = _Outboxes(who)
    profile = records.profile(who)
    first = outboxes.handle(profile)
    assert not [w for w in first if isinstance(w, DeadLetter)]
    (snapshot,) = [w for w in first if isinstance(w, RoutingState)]
    assert snapshot.source_event_partner == "uwv"
    if rebuilt:  # as the loader does after a restart or rebalance
        outboxes.state = PartitionState(outboxes.partition)
        outboxes.state.applied[snapshot.source_event_id] = snapshot.source_event_partner
        outboxes.state.subjects[who] = SubjectState.from_record(snapshot)
    # A true replay (same outbox) is still a replay: nothing refused, nothing new.
    assert not [w for w in outboxes.handle(profile) if isinstance(w, DeadLetter)]
    impostor = records.profile(who, source_partner="gemeente-amsterdam")
    impostor = impostor.model_copy(update={"event_id": profile.event_id})
    written = outboxes.handle(impostor, partner="gemeente-amsterdam")
    assert [w for w in written if isinstance(w, DeadLetter)], "refused as the publisher it is"
