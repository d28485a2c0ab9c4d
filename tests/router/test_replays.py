"""What the router takes for a replay of a record it accepted before (and so does not
validate against the state again): only the same record, redelivered by its own outbox
partition at its own offset, as the replay guard tells (record security on)."""

from __future__ import annotations

import pytest

from hub.router.ids import delivery_id
from schemas.models import ClientProfile, DeadLetter
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub

pytestmark = pytest.mark.integration


def test_regression_another_outbox_reusing_an_accepted_event_id_passed_as_a_replay(
    hub: Hub,
) -> None:
    """A municipality published a profile under the event id of UWV's accepted profile,
    naming itself as publisher: the router took it for a replay, skipped the rule that
    only UWV publishes a WW entrant's profile, and delivered it to UWV (the original's
    publisher, so never a recipient of the original)."""
    worker = hub.worker()
    who = records.subject()
    hub.grant(
        who,
        to=["uwv", "gemeente-amsterdam"],
        purposes=[Purpose.ARRANGEMENT],
        categories=[DataCategory.IDENTITY, DataCategory.LABOUR_MARKET_PROFILE],
    )
    worker.wait_ready(60, partitions=hub.settings.topic_partitions)
    original = records.profile(who)
    hub.publish(original)
    hub.wait_for(
        lambda: hub.inbox("gemeente-amsterdam"),
        lambda rs: any(r.ce_id == delivery_id(original.event_id, "gemeente-amsterdam") for r in rs),
        what="the original in the municipality's inbox",
    )

    impostor = records.profile(who, source_partner="gemeente-amsterdam", given_name="Someone")
    impostor = impostor.model_copy(update={"event_id": original.event_id})
    hub.publish(impostor, partner="gemeente-amsterdam")  # signed by the municipality

    letter = hub.wait_dead_letter(original.event_id).record
    assert isinstance(letter, DeadLetter)
    assert letter.reason is DeadLetterReason.PUBLISHER_NOT_ALLOWED
    assert letter.source_topic == hub.catalogue.outbox("gemeente-amsterdam").name
    uwv = [r for r in hub.inbox("uwv") if isinstance(r.record, ClientProfile)]
    assert uwv == []
