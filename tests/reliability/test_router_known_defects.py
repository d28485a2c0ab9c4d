"""Defects the hostile-input suite found in code this suite's author does not own
(hub/router/processing.py), reproduced in-process, without a broker.

Each test states the behaviour the router must have and is marked ``xfail(strict=True)``
while the defect is there: when it is fixed the test passes, strict xfail turns that
into a failure, and the marker must go - the test then guards the fix.
"""

from __future__ import annotations

import pytest

from consent.policy import load_policy
from hub.config import load_settings
from hub.router.processing import Inbound, RouterCore
from hub.router.state import PartitionState
from hub.router.validation import Rejection, partition_of
from schemas import load_schemas
from schemas.models import CanonicalRecord, DeadLetter
from schemas.models.enums import DeadLetterReason
from tests.router.helpers import records
from topics import build_catalogue, load_partners

PARTITIONS = 4
SETTINGS = load_settings(topic_prefix="defects", topic_partitions=PARTITIONS)
CATALOGUE = build_catalogue(SETTINGS)


def _core() -> RouterCore:
    return RouterCore(
        catalogue=CATALOGUE,
        directory=load_partners(),
        policy=load_policy(),
        schemas=load_schemas(),
        partitions=PARTITIONS,
    )


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


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="hub/router/processing.py RouterCore.handle: a record whose event_id is in "
    "state.applied is taken for a replay and skips validation, whatever it holds; a "
    "ResponsibilityTransfer so 'replayed' without to_party reaches the assert in "
    "_handover (the engine dead-letters it as OTHER, 'the hub failed')",
)
def test_a_different_record_under_an_applied_event_id_is_validated_not_trusted() -> None:
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


@pytest.mark.xfail(
    strict=True,
    reason="hub/router/processing.py RouterCore.handle: another partner's outbox can "
    "reuse the event id of a record the router accepted (the replay guard is per outbox "
    "topic, state.applied per partition): the record is taken for a replay and no rule "
    "is checked - here gemeente publishes as UWV and nothing is refused",
)
def test_an_event_id_from_another_outbox_does_not_skip_the_rules() -> None:
    who = records.subject()
    outboxes = _Outboxes(who)
    profile = records.profile(who)
    outboxes.handle(profile)
    again = records.profile(who, municipality_code="9999")  # another record...
    again = again.model_copy(update={"event_id": profile.event_id})  # ...under its id
    written = outboxes.handle(again, partner="gemeente-amsterdam")
    assert [w for w in written if isinstance(w, DeadLetter)], "refused"


@pytest.mark.xfail(
    strict=True,
    reason="hub/router/processing.py RouterCore.refuse writes the dead letter and the "
    "rejection notice with the refused record's key as their Kafka key; a key of more "
    "than 1 MiB makes both writes exceed the producer's max_request_size, and the engine "
    "retries that batch forever: the partition stops (observed on the real broker)",
)
def test_the_refusal_of_a_record_with_a_huge_key_fits_a_produce_request() -> None:
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
