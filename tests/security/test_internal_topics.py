"""The hub's own topics are read back only as the hub wrote them, on the real broker with
a real router worker: a record someone else put on the routing-state topic is ignored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hub.ids import ClientPseudonym, EventId, PartnerId
from hub.router.runtime import RouterProcess
from hub.router.validation import partition_of
from hub.serde.canonical import cloud_event_headers
from schemas.models.routing import RoutingState
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub
from tests.router.helpers.workers import fresh_worker

pytestmark = pytest.mark.integration


def _subjects(worker: RouterProcess) -> int:
    status = worker.status() or {}
    return int(status["held"]["subjects"])


def test_regression_a_routing_state_record_forged_on_the_topic_was_loaded(hub: Hub) -> None:
    """A worker read the routing-state topic as it found it: an unencrypted record any
    producer wrote there was taken as a subject's state (a planted banenafspraak flag or
    first-responsible party changes how the rules judge that person's records). Now a
    record without the hub's signature is ignored, with a CRITICAL line."""
    before = _subjects(fresh_worker(hub, "before-planting"))
    who = records.subject()
    planted = RoutingState(
        event_id=EventId(str(uuid.uuid4())),
        occurred_at=datetime.now(UTC),
        source_partner=PartnerId("uwv"),
        client_pseudonym=ClientPseudonym(who),
        source_event_id=EventId(str(uuid.uuid4())),
        banenafspraak=True,
    )
    topic = hub.catalogue.routing_state.name
    key = who.encode()
    hub.publish_raw(
        topic,
        key=key,
        value=hub.codec.encode(planted, topic),
        headers=list(cloud_event_headers(planted)),
        partition=partition_of(key, hub.settings.topic_partitions),
    )
    after = fresh_worker(hub, "after-planting")
    assert _subjects(after) == before
    assert after.log_file is not None
    log = after.log_file.read_text()
    assert "routing state at offset" in log
    assert "not the hub's record" in log
    assert "CRITICAL" in log
