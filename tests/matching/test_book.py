"""The matching book: refreshed record by record, the consent gate asked at every
question, so a withdrawn consent or an availability set to false takes the person out
of the next proposals at once. No broker."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from consent.decision import CompiledConsent
from consent.model import ConsentStatus, Recipient
from consent.policy import load_policy
from hub.ids import ConsentId, PartnerId
from hub.matching.book import MatchingBook
from hub.matching.model import MatchKind
from hub.matching.vocabulary import load_vocabulary
from schemas.menu_card import Instrument
from schemas.models.enums import LegalBasis
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from topics.partners import load_partners

NOW = datetime(2021, 4, 1, tzinfo=UTC)
PARTNERS = {p.id: p for p in load_partners()}


def _consent(purpose: Purpose, *, to: str = "uwv") -> CompiledConsent:
    return CompiledConsent(
        id=ConsentId(f"c-{purpose}-{to}"),
        status=ConsentStatus.GIVEN,
        valid_from=NOW - timedelta(days=30),
        valid_until=None,
        recipients=(Recipient(partner_id=PartnerId(to)),),
        purposes=frozenset({purpose}),
        categories=frozenset(
            {
                DataCategory.LABOUR_MARKET_PROFILE,
                DataCategory.RESIDENCE,
                DataCategory.EDUCATION,
            }
        ),
        legal_basis=LegalBasis.CONSENT,
    )


def _book() -> tuple[MatchingBook, str, str]:
    book = MatchingBook(PARTNERS, load_vocabulary(), load_policy(), lambda: NOW)
    job = records.vacancy(open_until=date(2021, 9, 30))
    book.apply(job)
    cook, other = records.subject(), records.subject()
    for who in (cook, other):
        book.apply(records.profile(who))
        book.apply(records.availability(who))
    book.set_consents(cook, [_consent(Purpose.MATCHING_PLACEMENT)])
    book.set_consents(other, [_consent(Purpose.ARRANGEMENT)])  # no matching consent
    return book, job.vacancy_id, cook


def test_the_example_cook_is_trainable_for_the_logistics_vacancy_and_only_she() -> None:
    book, vacancy_id, cook = _book()
    (proposal,) = book.proposals(vacancy_id)
    assert (proposal.pseudonym, proposal.kind) == (cook, MatchKind.TRAINABLE)
    assert proposal.first_responsible == "uwv"  # who published her availability
    assert Instrument.PRACTICAL_LEARNING_MBO in proposal.instruments
    assert book.explain(vacancy_id, cook) == proposal


def test_a_withdrawn_consent_takes_the_person_out_at_once() -> None:
    book, vacancy_id, cook = _book()
    given = _consent(Purpose.MATCHING_PLACEMENT)
    book.set_consents(
        cook, [replace(given, status=ConsentStatus.WITHDRAWN, withdrawn_at=NOW - timedelta(1))]
    )
    assert book.proposals(vacancy_id) == []
    assert book.explain(vacancy_id, cook) is None


def test_no_longer_available_takes_the_person_out() -> None:
    book, vacancy_id, cook = _book()
    book.apply(records.availability(cook, available=False))
    assert book.proposals(vacancy_id) == []


def test_a_closed_vacancy_gets_no_proposals() -> None:
    book, _, _ = _book()
    closed = records.vacancy(open_until=date(2021, 3, 31))
    book.apply(closed)
    assert book.proposals(closed.vacancy_id) == []
    assert closed.vacancy_id not in {o.vacancy_id for o in book.openings()}


def test_a_surplus_is_coupled_as_records_arrive() -> None:
    book, vacancy_id, _ = _book()
    assert book.couplings() == []
    book.apply(records.surplus())
    (coupling,) = book.couplings()
    assert coupling.vacancy_id == vacancy_id
