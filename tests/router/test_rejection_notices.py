"""Rejection notices tell a publisher nothing of a subject it is not entitled to know
(issue 20, part 3): a rule that read the subject's state answers a publisher without a
consent covering that state with REASON_WITHHELD; the dead letter keeps the reason.

The router core without a broker; the worker end to end is in test_rules.py."""

from __future__ import annotations

from hub.ids import PartnerId
from hub.router.processing import WITHHELD_MESSAGE, RouterCore
from hub.router.state import PartitionState
from schemas.menu_card import Instrument
from schemas.models import CanonicalRecord, DeadLetter, PartyRef, RejectionNotice
from schemas.models.enums import DeadLetterReason, LegalBasis
from schemas.regions import Region
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.router.helpers import records
from tests.router.test_core import change, make_core, route, state_for

UTRECHT = PartyRef(partner_id=PartnerId("gemeente-utrecht"), kind=PartnerKind.GEMEENTE)
UTRECHT_CITY = "0344"  # municipality of Utrecht, region Midden-Utrecht
"""A partner no consent of the test subjects names."""


def refused(
    core: RouterCore, state: PartitionState, record: CanonicalRecord, offset: int = 0
) -> tuple[DeadLetter, RejectionNotice]:
    writes = route(core, state, record, offset=offset)
    (dead,) = [w.record for w in writes if isinstance(w.record, DeadLetter)]
    (notice,) = [w.record for w in writes if isinstance(w.record, RejectionNotice)]
    return dead, notice


def told(notice: RejectionNotice) -> tuple[object, ...]:
    """What a notice says beyond the ids and positions of the refused record."""
    return (notice.reason, notice.message, notice.field)


def uwv_client(core: RouterCore) -> tuple[str, PartitionState]:
    """A WW entrant with a UWV profile and arrangement: UWV is first responsible."""
    who = records.subject()
    state = state_for(who)
    route(core, state, records.profile(who))
    route(core, state, records.arrangement(who))
    return who, state


def by_utrecht(who: str) -> CanonicalRecord:
    """An arrangement in Utrecht's own region (a regional party acts there only)."""
    return records.arrangement(
        who,
        records.service(Instrument.JOB_COACH),
        source_partner="gemeente-utrecht",
        composed_by=UTRECHT,
        region=Region.MIDDEN_UTRECHT,
    )


def test_regression_a_rejection_notice_told_any_partner_whether_the_person_is_a_client() -> None:
    """An arrangement for a stranger was refused with "no profile or intake of this person",
    for a client with "comes from the first-responsible party (uwv)": any partner could
    probe a BSN."""
    core = make_core()
    client, client_state = uwv_client(core)
    stranger = records.subject()
    dead_client, about_client = refused(core, client_state, by_utrecht(client), offset=1)
    dead_stranger, about_stranger = refused(core, state_for(stranger), by_utrecht(stranger))
    assert told(about_client) == told(about_stranger)
    assert about_client.reason is DeadLetterReason.REASON_WITHHELD
    assert about_client.message == WITHHELD_MESSAGE
    # the operators still see why
    assert dead_client.reason is dead_stranger.reason is DeadLetterReason.PUBLISHER_NOT_ALLOWED
    assert dead_client.message != dead_stranger.message


def test_regression_a_rejection_notice_named_the_first_responsible_party() -> None:
    """A profile from a partner that is not first responsible was refused naming the party
    that is (and so hinting at the person's benefit)."""
    core = make_core()
    who, state = uwv_client(core)
    dead, notice = refused(
        core,
        state,
        records.profile(
            who, source_partner="gemeente-utrecht", municipality_code=UTRECHT_CITY, region=None
        ),
        offset=2,
    )
    assert "uwv" in dead.message
    assert dead.field == "source_partner"
    assert notice.reason is DeadLetterReason.REASON_WITHHELD
    assert "uwv" not in notice.message
    assert notice.field is None


def handed_to_amsterdam(core: RouterCore) -> tuple[str, PartitionState]:
    """UWV committed EUR 600 of tailored budget, then handed over to gemeente-amsterdam."""
    who = records.subject()
    state = state_for(who)
    route(core, state, records.profile(who))
    spent = records.arrangement(who, records.service(Instrument.TAILORED_BUDGET, 60_000))
    route(core, state, spent, offset=1)
    route(core, state, records.transfer(who, spent.arrangement_id or ""), offset=2)
    return who, state


def amsterdam_budget(who: str, cents: int) -> CanonicalRecord:
    return records.arrangement(
        who,
        records.service(Instrument.TAILORED_BUDGET, cents),
        source_partner="gemeente-amsterdam",
        composed_by=records.GEMEENTE,
    )


def test_regression_a_rejection_notice_gave_the_budget_other_partners_spent() -> None:
    """The tailored-budget refusal gave the total over every party's arrangements to a
    party no consent lets see them: 1200 EUR asked by 600 told it UWV spent 600."""
    core = make_core()
    who, state = handed_to_amsterdam(core)
    dead, notice = refused(core, state, amsterdam_budget(who, 60_000), offset=3)
    assert dead.reason is DeadLetterReason.TAILORED_BUDGET_EXCEEDED
    assert "1200.00 EUR" in dead.message
    assert notice.reason is DeadLetterReason.REASON_WITHHELD
    assert "EUR" not in notice.message


def test_a_publisher_whose_consent_covers_the_state_is_told_the_reason() -> None:
    core = make_core()
    who, state = handed_to_amsterdam(core)
    state.consents.apply(change(who, "gemeente-amsterdam", purposes=(Purpose.ARRANGEMENT,)))
    dead, notice = refused(core, state, amsterdam_budget(who, 60_000), offset=3)
    assert told(notice) == (dead.reason, dead.message, dead.field)
    assert notice.reason is DeadLetterReason.TAILORED_BUDGET_EXCEEDED


def test_a_consent_without_the_category_the_rule_read_does_not_tell_it() -> None:
    """Banenafspraak is health data: a consent for arrangements does not let it through,
    an explicit consent naming health does."""
    core = make_core()
    who, state = handed_to_amsterdam(core)
    state.consents.apply(change(who, "gemeente-amsterdam", purposes=(Purpose.ARRANGEMENT,)))
    bad = records.arrangement(
        who,
        records.service(Instrument.NO_RISK_POLICY),
        source_partner="gemeente-amsterdam",
        composed_by=records.GEMEENTE,
    )
    dead, notice = refused(core, state, bad, offset=4)
    assert dead.reason is DeadLetterReason.BANENAFSPRAAK_ONLY
    assert notice.reason is DeadLetterReason.REASON_WITHHELD
    with_health = change(
        who,
        "gemeente-amsterdam",
        consent_id="c-health",
        purposes=(Purpose.ARRANGEMENT,),
        categories=(DataCategory.HEALTH,),
        legal_basis=LegalBasis.EXPLICIT_CONSENT,  # special category data (art. 9)
    )
    state.consents.apply(with_health)
    dead, notice = refused(core, state, bad, offset=5)
    assert notice.reason is DeadLetterReason.BANENAFSPRAAK_ONLY


def test_regression_an_off_menu_service_was_refused_on_the_subject_s_state_first() -> None:
    """An off-menu service is refused as such, whatever the hub knows of the person."""
    core = make_core()
    who = records.subject()
    bad = records.arrangement(
        who,
        records.service(None),
        source_partner="gemeente-utrecht",
        composed_by=UTRECHT,
        region=Region.MIDDEN_UTRECHT,
    )
    _, notice = refused(core, state_for(who), bad)
    assert notice.reason is DeadLetterReason.INSTRUMENT_NOT_ON_MENU
    assert notice.field == "services.0.instrument"
