"""Purpose limitation: each purpose of the policy matrix lets exactly its own records
through, routed in process by the router core."""

from __future__ import annotations

from datetime import date

import pytest

from consent.policy import load_policy
from hub.router.processing import RouterCore, Write
from schemas.models import CanonicalRecord, PartyRef, Recipient
from schemas.models.enums import LegalBasis
from schemas.vocabulary import DataCategory, JobSeekerCategory, PartnerKind, Purpose
from tests.router.helpers import records
from tests.router.test_core import change, make_core, route, state_for

PERSONAL = tuple(
    c
    for c in DataCategory
    if c
    not in {
        DataCategory.META,
        DataCategory.PSEUDONYM,
        DataCategory.BUSINESS,
        DataCategory.STATISTICAL,
    }
)
"""Every category a consent can name about a person."""

PROFILE, INTAKE = "ClientProfile", "IntakeDecision"
ARRANGEMENT, REFERRAL = "PersonalArrangement", "Referral"
OUTCOME, TRANSFER = "PlacementOutcome", "ResponsibilityTransfer"


def _delivered(writes: list[Write]) -> list[tuple[str, str, Purpose]]:
    """(recipient, record type, purpose) of every delivery among ``writes``."""
    out = []
    for write in writes:
        if write.delivery is None or write.record is None:
            continue
        name = write.record.avro_name.rsplit(".", 1)[-1]
        out.append((write.delivery.recipient.id, name, write.delivery.purpose))
    return out


# --- the regression: the transfer purpose let every arrangement through ---------------------------


def test_regression_transfer_purpose_let_arrangements_through_without_a_transfer() -> None:
    core = make_core()
    who = records.subject()
    state = state_for(who)
    state.consents.apply(
        change(
            who,
            "gemeente-amsterdam",
            purposes=(Purpose.RESPONSIBILITY_TRANSFER,),
            categories=(DataCategory.IDENTITY, DataCategory.ARRANGEMENT),
        )
    )
    route(core, state, records.profile(who))  # a WW entrant: UWV is first responsible
    arrangement = records.arrangement(who)
    published = route(core, state, arrangement)
    assert _delivered(published) == []  # no transfer yet: nothing for the gemeente

    assert arrangement.arrangement_id is not None
    moved = records.transfer(who, arrangement.arrangement_id)
    handed = _delivered(route(core, state, moved))
    assert sorted(handed) == [
        ("gemeente-amsterdam", ARRANGEMENT, Purpose.RESPONSIBILITY_TRANSFER),
        ("gemeente-amsterdam", TRANSFER, Purpose.RESPONSIBILITY_TRANSFER),
    ]


def test_the_transfer_purpose_does_not_reach_a_partner_outside_the_transfer() -> None:
    core = make_core()
    who = records.subject()
    state = state_for(who)
    state.consents.apply(
        change(
            who,
            "gemeente-amsterdam",
            "sp-werkgevers",
            purposes=(Purpose.RESPONSIBILITY_TRANSFER,),
            categories=(DataCategory.IDENTITY, DataCategory.ARRANGEMENT),
        )
    )
    route(core, state, records.profile(who))
    arrangement = records.arrangement(who)
    route(core, state, arrangement)
    assert arrangement.arrangement_id is not None
    handed = _delivered(route(core, state, records.transfer(who, arrangement.arrangement_id)))
    assert {recipient for recipient, _, _ in handed} == {"gemeente-amsterdam"}


# --- one test per purpose of the policy matrix ----------------------------------------------------

GEMEENTE, UWV = records.GEMEENTE, records.UWV
PUBLISHER = GEMEENTE.partner_id


def _story(who: str) -> list[CanonicalRecord]:
    """A young person: the gemeente is first responsible, composes the arrangement,
    refers the person to UWV, reports an outcome, and hands responsibility to UWV."""
    young = {"source_partner": PUBLISHER, "job_seeker_category": JobSeekerCategory.YOUNG_PERSON}
    arrangement = records.arrangement(who, source_partner=PUBLISHER, composed_by=GEMEENTE)
    assert arrangement.arrangement_id is not None
    handing: dict[str, PartyRef | str] = {"from_party": GEMEENTE, "to_party": UWV}
    return [
        records.profile(who, date_of_birth=date(2002, 5, 17), **young),
        records.intake(who, first_responsible=GEMEENTE, **young),
        arrangement,
        records.referral(who, source_partner=PUBLISHER, **handing),
        records.outcome(who, source_partner=PUBLISHER, arrangement_id=arrangement.arrangement_id),
        records.transfer(who, arrangement.arrangement_id, source_partner=PUBLISHER, **handing),
    ]


def _published(*names: str) -> set[tuple[str, str]]:
    """(record routed, record delivered): each of ``names`` delivered as it is published."""
    return {(name, name) for name in names}


AT_PUBLICATION = _published(PROFILE, INTAKE, ARRANGEMENT, REFERRAL, OUTCOME, TRANSFER)


LETS_THROUGH: dict[Purpose, set[tuple[str, str]]] = {
    Purpose.INTAKE_DIAGNOSIS: _published(PROFILE, INTAKE),
    Purpose.ARRANGEMENT: AT_PUBLICATION,
    Purpose.MATCHING_PLACEMENT: _published(PROFILE, ARRANGEMENT, OUTCOME),
    Purpose.SCHOOLING: _published(PROFILE, ARRANGEMENT, OUTCOME),
    Purpose.WARM_HANDOVER: _published(PROFILE, REFERRAL),
    # only the handover: the transfer, and the arrangement re-sent when it is routed
    Purpose.RESPONSIBILITY_TRANSFER: {(TRANSFER, TRANSFER), (TRANSFER, ARRANGEMENT)},
    Purpose.BUDGET_ADMINISTRATION: _published(ARRANGEMENT, OUTCOME),
    Purpose.MONITORING: set(),  # the monitor gets its own stream, never partner records
}


def test_every_purpose_of_the_policy_matrix_is_covered() -> None:
    purposes = {p for cells in load_policy().kinds.values() for p in cells}
    assert purposes == set(LETS_THROUGH)


@pytest.mark.parametrize("purpose", list(LETS_THROUGH), ids=lambda p: p.value)
def test_a_purpose_lets_through_its_own_records_and_no_others(purpose: Purpose) -> None:
    core: RouterCore = make_core()
    who = records.subject()
    state = state_for(who)
    state.consents.apply(
        change(
            who,
            purposes=(purpose,),
            categories=PERSONAL,
            recipients=tuple(Recipient(partner_kind=kind) for kind in PartnerKind),
            legal_basis=LegalBasis.EXPLICIT_CONSENT,
        )
    )
    got: set[tuple[str, str]] = set()
    recipients: set[str] = set()
    for record in _story(who):
        writes = route(core, state, record, partner=PUBLISHER)
        refused = [w.record for w in writes if type(w.record).__name__ == "DeadLetter"]
        assert refused == [], refused
        routed = record.avro_name.rsplit(".", 1)[-1]
        for recipient, name, used in _delivered(writes):
            assert used is purpose  # the disclosure log names the purpose consented to
            got.add((routed, name))
            recipients.add(recipient)
    assert got == LETS_THROUGH[purpose]
    policy = load_policy()
    for recipient in recipients:  # only partners the matrix allows for the purpose
        assert policy.allowed(core.partners[recipient].kind, purpose), recipient
    if purpose in (Purpose.RESPONSIBILITY_TRANSFER, Purpose.BUDGET_ADMINISTRATION):
        assert recipients == {UWV.partner_id}
