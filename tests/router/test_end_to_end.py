"""End to end over the real broker: consented fields reach the consented partner only,
and the audit says exactly what was delivered."""

from __future__ import annotations

import hashlib

import pytest

from consent.disclosures import disclosure_from_event
from schemas.models import ClientProfile, DisclosureEvent
from schemas.models.enums import HealthNeed
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids

pytestmark = pytest.mark.integration

LABOUR_MARKET = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
)
HEALTH_FIELDS = {"reduced_wage_value", "work_limitation", "banenafspraak", "health_needs"}


def test_profile_reaches_the_consented_gemeente_without_health_and_sbb_gets_nothing(
    hub: Hub,
) -> None:
    worker = hub.worker()
    who = records.subject()
    consent = hub.grant(
        who, to=["gemeente-amsterdam"], purposes=[Purpose.ARRANGEMENT], categories=LABOUR_MARKET
    )
    profile = records.profile(
        who, work_limitation=True, health_needs=[HealthNeed.WORKPLACE_ADAPTATION]
    )
    worker.wait_ready(60)
    hub.publish(profile)

    inbox = hub.wait_for(
        lambda: hub.inbox("gemeente-amsterdam"),
        lambda rs: profile.event_id in delivered_ids(rs),
        what="the profile in the gemeente's inbox",
    )
    (got,) = [r for r in inbox if isinstance(r.record, ClientProfile)]
    delivered = got.record
    assert isinstance(delivered, ClientProfile)
    assert delivered.event_id == profile.event_id
    assert delivered.bsn == profile.bsn
    assert delivered.work_history == profile.work_history
    assert delivered.benefit_status == profile.benefit_status
    for name in HEALTH_FIELDS:
        assert getattr(delivered, name) is None, name
    assert delivered.has_debts is None  # debts not consented either
    assert set(delivered.withheld_categories) == {DataCategory.HEALTH, DataCategory.DEBTS}

    for partner in ("sbb", "uwv", "gemeente-rotterdam", "mbo-amsterdam", "sp-werkgevers"):
        assert delivered_ids(hub.inbox(partner)) == [], partner

    audit = [r.record for r in hub.audit()]
    assert len(audit) == 1
    (event,) = audit
    assert isinstance(event, DisclosureEvent)
    assert event.event_id == got.ce_id
    assert event.client_pseudonym == who
    assert event.recipient == "gemeente-amsterdam"
    assert event.purpose is Purpose.ARRANGEMENT
    assert event.consent_ids == [consent.consent_id]
    assert event.source_event_id == profile.event_id
    assert event.publisher == "uwv"
    assert event.inbox_topic == hub.catalogue.inbox("gemeente-amsterdam").name
    assert got.value is not None
    assert event.payload_sha256 == hashlib.sha256(got.value).hexdigest()
    present = {
        name
        for name, value in delivered
        if (value is not None and value != []) or name in {"withheld_categories"}
    }
    assert set(event.fields) == present
    assert set(event.withheld_categories) == {DataCategory.HEALTH, DataCategory.DEBTS}
    assert DataCategory.HEALTH not in event.data_categories
    # the consent service's subject access report takes it as it is
    seen = disclosure_from_event(event)
    assert seen.recipient == "gemeente-amsterdam"
    assert seen.consent_ids == (consent.consent_id,)
    assert DataCategory.HEALTH in seen.withheld_categories
