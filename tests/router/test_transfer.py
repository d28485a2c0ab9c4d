"""Responsibility transfer: the arrangement travels with the person to the new
first-responsible party, and the old one stops receiving its updates. And vacancies,
which are no personal data, go to the partners of their region."""

from __future__ import annotations

import pytest

from hub.router.ids import delivery_id
from schemas.models import PersonalArrangement, ResponsibilityTransfer, Vacancy
from schemas.models.enums import DeadLetterReason
from schemas.regions import Region
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids

pytestmark = pytest.mark.integration

ARRANGEMENT = (DataCategory.ARRANGEMENT, DataCategory.IDENTITY, DataCategory.BENEFIT_STATUS)


def test_the_arrangement_travels_with_the_person(hub: Hub) -> None:
    worker = hub.worker()
    who = records.subject()
    hub.grant(who, to=["uwv"], purposes=[Purpose.ARRANGEMENT], categories=ARRANGEMENT)
    worker.wait_ready(60)
    hub.publish(records.profile(who))  # a WW entrant: UWV is first responsible
    first = records.arrangement(who)
    hub.publish(first)
    # Consent for the municipality only now: it has not received the arrangement.
    hub.grant(
        who,
        to=["gemeente-amsterdam"],
        purposes=[Purpose.RESPONSIBILITY_TRANSFER, Purpose.ARRANGEMENT],
        categories=ARRANGEMENT,
        controller="gemeente-amsterdam",
    )
    assert first.arrangement_id is not None
    moved = records.transfer(who, first.arrangement_id)
    hub.publish(moved)

    gemeente = hub.wait_for(
        lambda: hub.inbox("gemeente-amsterdam"),
        lambda rs: {first.event_id, moved.event_id} <= set(delivered_ids(rs)),
        what="the transfer and the arrangement at the new first-responsible party",
    )
    handed = [r for r in gemeente if isinstance(r.record, PersonalArrangement)]
    assert [r.ce_id for r in handed] == [delivery_id(first.event_id, "gemeente-amsterdam")]
    assert handed[0].record.services == first.services  # type: ignore[union-attr]
    assert any(isinstance(r.record, ResponsibilityTransfer) for r in gemeente)

    # The new party now composes the arrangement; the old one no longer receives it.
    second = first.model_copy(
        update={
            "event_id": records.arrangement(who).event_id,
            "revision": 2,
            "source_partner": "gemeente-amsterdam",
            "composed_by": records.GEMEENTE,
        }
    )
    hub.publish(second)
    late = records.arrangement(who)  # UWV is no longer first responsible
    hub.publish(late)
    dead = hub.wait_dead_letter(late.event_id).record
    assert dead.reason is DeadLetterReason.PUBLISHER_NOT_ALLOWED  # type: ignore[union-attr]
    # `late` is in the same partition after `second`: both are routed by now.
    assert second.event_id not in delivered_ids(hub.inbox("uwv"))
    refused = [getattr(r.record, "event_id", None) for r in hub.dead_letters()]
    assert refused == [late.event_id]  # the new party's revision was accepted
    audited = {
        (r.record.recipient, r.record.source_event_id)  # type: ignore[union-attr]
        for r in hub.audit()
    }
    assert ("gemeente-amsterdam", first.event_id) in audited
    assert ("uwv", second.event_id) not in audited


def test_vacancies_go_to_the_partners_of_their_region(hub: Hub) -> None:
    worker = hub.worker()
    worker.wait_ready(60)
    job = records.vacancy(source_partner="sp-werkgevers", region=Region.GROOT_AMSTERDAM)
    hub.publish(job)
    hub.wait_for(
        lambda: hub.inbox("mbo-amsterdam"),
        lambda rs: job.event_id in delivered_ids(rs),
        what="the vacancy at the school of the region",
    )
    for partner in ("gemeente-amsterdam", "uwv", "sbb", "sp-vakbonden"):
        got = [r.record for r in hub.inbox(partner) if isinstance(r.record, Vacancy)]
        assert [v.event_id for v in got] == [job.event_id], partner
        assert got[0] == job
    for partner in ("gemeente-rotterdam", "gemeente-utrecht", "sp-werkgevers"):
        assert delivered_ids(hub.inbox(partner)) == [], partner
    assert hub.audit() == []  # business data: not a disclosure of personal data
