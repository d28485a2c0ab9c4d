"""Matching as plain domain code: scoring, explanations, trainable candidates, coupling
and the consent gate. No broker."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from consent.decision import CompiledConsent
from consent.model import ConsentStatus, Recipient
from consent.policy import load_policy
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.matching.coupling import couple, surplus
from hub.matching.gate import candidate, opening
from hub.matching.model import Candidate, Criterion, MatchKind, Opening
from hub.matching.regions import neighbours, reach
from hub.matching.scoring import Pool, propose, score
from hub.matching.vocabulary import load_vocabulary
from schemas import examples
from schemas.menu_card import Instrument
from schemas.models import Availability, ClientProfile, StaffSurplus, Vacancy
from schemas.models.enums import LegalBasis
from schemas.regions import Region
from schemas.vocabulary import DataCategory, EducationLevel, LanguageLevel, Purpose, Sector
from topics.partners import load_partners

VOCAB = load_vocabulary()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = load_policy()
UWV = next(p for p in load_partners() if p.id == "uwv")
AMS = Region.GROOT_AMSTERDAM


def ids(*texts: str) -> frozenset[str]:
    return VOCAB.competence_ids(list(texts))


def warehouse(**changes: object) -> Opening:
    base = Opening(
        vacancy_id="vac-1",
        employer="Logistiek Centrum Westpoort B.V.",
        title="Logistiek medewerker",
        region=AMS,
        sector=Sector.LOGISTICS,
        competences=ids("Heftruck rijden", "Orderpicken", "Voorraadbeheer"),
        occupations=VOCAB.occupation_ids(["Logistiek medewerker"]),
        education_level=EducationLevel.MBO_2,
        language_level=LanguageLevel.B1,
        hours_per_week=32,
        trainable=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def person(pseudonym: str = "p-1", **changes: object) -> Candidate:
    base = Candidate(
        pseudonym=pseudonym,
        region=AMS,
        first_responsible="uwv",
        competences=ids("heftruck", "orderpicking", "voorraad"),
        occupations=VOCAB.occupation_ids(["Magazijnmedewerker"]),
        sectors=frozenset({Sector.LOGISTICS}),
        education_level=EducationLevel.MBO_2,
        starting_qualification=True,
        language_level=LanguageLevel.B2,
        hours_per_week=32,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_vocabulary_maps_free_text_and_synonyms_onto_one_entry() -> None:
    assert ids("Heftruck", "reachtruck", "Heftruck rijden") == frozenset({"heftruck"})
    assert ids("Orderpicking") == frozenset({"orderpicken"})
    assert ids("astrofysica") == frozenset()  # resembles nothing: unmapped


def test_neighbours_are_symmetric_data_and_every_region_has_some() -> None:
    for region in Region:
        assert neighbours(region), region
        for near in neighbours(region):
            assert region in neighbours(near)
    assert Region.ZAANSTREEK_WATERLAND in reach(AMS)
    assert Region.ZUID_LIMBURG not in reach(AMS)


def test_a_full_fit_is_direct_and_every_criterion_is_explained() -> None:
    proposal = score(person(), warehouse(), VOCAB)
    assert proposal is not None
    assert proposal.kind is MatchKind.DIRECT
    assert proposal.score == pytest.approx(1.0)
    assert [c.criterion for c in proposal.criteria] == list(Criterion)
    text = proposal.explain()
    assert "heeft 3 van 3 gevraagde competenties" in text
    assert "ervaring als Logistiek medewerker" in text
    assert "MBO_2 met startkwalificatie voldoet aan MBO_2" in text


def test_a_trainable_candidate_names_the_instruments_that_close_the_gaps() -> None:
    learner = person(
        competences=ids("Orderpicken"),
        education_level=EducationLevel.VMBO,
        starting_qualification=False,
        language_level=LanguageLevel.A2,
    )
    proposal = score(learner, warehouse(), VOCAB)
    assert proposal is not None
    assert proposal.kind is MatchKind.TRAINABLE
    assert set(proposal.instruments) == {
        Instrument.PRACTICAL_LEARNING_MBO,
        Instrument.LANGUAGE_EDUCATION,
    }
    education = next(c for c in proposal.criteria if c.criterion is Criterion.EDUCATION)
    assert "praktijkleren naar een mbo-certificaat" in education.explanation
    # the same person for a vacancy that takes no trainees: not proposed
    assert score(learner, warehouse(trainable=False), VOCAB) is None


def test_a_gap_no_instrument_closes_is_not_trainable() -> None:
    driver = warehouse(competences=ids("Rijbewijs B", "Orderpicken"))
    assert score(person(competences=ids("Orderpicken")), driver, VOCAB) is None


def test_region_reach_is_own_and_neighbouring_regions_only() -> None:
    near = score(person(region=Region.ZAANSTREEK_WATERLAND), warehouse(), VOCAB)
    assert near is not None
    region = next(c for c in near.criteria if c.criterion is Criterion.REGION)
    assert "buurregio" in region.explanation
    assert score(person(region=Region.ZUID_LIMBURG), warehouse(), VOCAB) is None


def test_the_pool_ranks_best_first_and_fills_up_only_for_trainees() -> None:
    pool = Pool(
        [
            person("p-full"),
            person("p-half", competences=ids("Orderpicken", "Heftruck"), occupations=frozenset()),
            person("p-cook", competences=ids("Koken"), occupations=frozenset()),
            person("p-far", region=Region.ZUID_LIMBURG),
        ]
    )
    found = propose(warehouse(trainable=False), pool, VOCAB)
    assert [p.pseudonym for p in found] == ["p-full", "p-half"]
    # a vacancy that takes trainees: the cook shares nothing, but training closes it all
    found = propose(warehouse(), pool, VOCAB)
    assert [(p.pseudonym, p.kind) for p in found] == [
        ("p-full", MatchKind.DIRECT),
        ("p-half", MatchKind.TRAINABLE),
        ("p-cook", MatchKind.TRAINABLE),
    ]
    assert pool.in_reach(warehouse()) == 3


def _consent(*purposes: Purpose, categories: tuple[DataCategory, ...]) -> CompiledConsent:
    return CompiledConsent(
        id=ConsentId("c-1"),
        status=ConsentStatus.GIVEN,
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
        recipients=(Recipient(partner_id=PartnerId("uwv")),),
        purposes=frozenset(purposes),
        categories=frozenset(categories),
        legal_basis=LegalBasis.CONSENT,
    )


PROFILE = examples.example("ClientProfile")
AVAILABLE = examples.example("Availability")
PROFILE_AND_EDUCATION = (
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.RESIDENCE,
    DataCategory.EDUCATION,
)


def test_only_people_available_with_a_matching_consent_are_candidates() -> None:
    assert isinstance(PROFILE, ClientProfile)
    assert isinstance(AVAILABLE, Availability)
    matching = _consent(Purpose.MATCHING_PLACEMENT, categories=PROFILE_AND_EDUCATION)
    found = candidate(PROFILE, AVAILABLE, [matching], UWV, VOCAB, now=NOW, policy=POLICY)
    assert found is not None
    assert found.education_level is PROFILE.education_level
    # deny by default: no consent, another purpose, not available, no availability at all
    for consents, availability in (
        ([], AVAILABLE),
        ([_consent(Purpose.ARRANGEMENT, categories=PROFILE_AND_EDUCATION)], AVAILABLE),
        ([matching], AVAILABLE.model_copy(update={"available": False})),
        ([matching], None),
    ):
        assert (
            candidate(PROFILE, availability, consents, UWV, VOCAB, now=NOW, policy=POLICY) is None
        )
    withdrawn = replace(matching, status=ConsentStatus.WITHDRAWN, withdrawn_at=NOW)
    assert candidate(PROFILE, AVAILABLE, [withdrawn], UWV, VOCAB, now=NOW, policy=POLICY) is None


def test_education_outside_the_consent_is_unknown_to_matching_and_said_so() -> None:
    assert isinstance(PROFILE, ClientProfile)
    assert isinstance(AVAILABLE, Availability)
    narrow = _consent(
        Purpose.MATCHING_PLACEMENT,
        categories=(DataCategory.LABOUR_MARKET_PROFILE, DataCategory.RESIDENCE),
    )
    found = candidate(PROFILE, AVAILABLE, [narrow], UWV, VOCAB, now=NOW, policy=POLICY)
    assert found is not None
    assert (found.education_level, found.language_level) == (None, None)
    vacancy = examples.example("Vacancy")
    assert isinstance(vacancy, Vacancy)
    proposal = score(found, opening(vacancy, VOCAB), VOCAB)
    assert proposal is not None
    education = next(c for c in proposal.criteria if c.criterion is Criterion.EDUCATION)
    assert "geen toestemming" in education.explanation


def _surplus(**changes: object) -> StaffSurplus:
    record = examples.example("StaffSurplus")
    assert isinstance(record, StaffSurplus)
    return record.model_copy(update=changes)


def test_a_surplus_company_is_coupled_to_other_companies_sharing_competences() -> None:
    vacancy = examples.example("Vacancy")
    assert isinstance(vacancy, Vacancy)
    same_company = opening(
        vacancy.model_copy(update={"vacancy_id": "vac-own", "employer": _surplus().employer}),
        VOCAB,
    )
    elsewhere = opening(vacancy.model_copy(update={"region": Region.ZUID_LIMBURG}), VOCAB)
    unrelated = opening(
        vacancy.model_copy(update={"vacancy_id": "vac-ict", "title": "Programmeur"}), VOCAB
    )
    unrelated = replace(unrelated, competences=ids("Programmeren"))
    found = couple(
        [surplus(_surplus(), VOCAB)],
        [opening(vacancy, VOCAB), same_company, elsewhere, unrelated],
        VOCAB,
    )
    assert [c.vacancy_id for c in found] == [vacancy.vacancy_id]
    (coupling,) = found
    assert coupling.shared_competences == ("Orderpicken",)
    assert coupling.shared_occupations == ("Logistiek medewerker",)
    assert not coupling.same_sector
    assert "Grand Hotel Amstel Events B.V. (40 boventallig)" in coupling.explanation
    assert "sector HOSPITALITY naar LOGISTICS" in coupling.explanation


def test_examples_are_what_the_story_says() -> None:
    availability = examples.example("Availability")
    assert isinstance(availability, Availability)
    assert availability.client_pseudonym == ClientPseudonym("psn-uwv-7f3a9e21c4b8")
    assert availability.event_id != EventId("")


def test_the_sdk_keys_a_surplus_by_its_id_and_derives_distinct_event_ids() -> None:
    from hub.sdk import record_key  # noqa: PLC0415
    from hub.sdk.event_ids import business_key, event_id_for  # noqa: PLC0415

    first = _surplus()
    assert record_key(first) == first.surplus_id.encode()
    assert business_key(first) == first.surplus_id
    other = first.model_copy(update={"staff_count": 41})
    assert event_id_for(first, "sp-werkgevers") != event_id_for(other, "sp-werkgevers")
    availability = examples.example("Availability")
    assert isinstance(availability, Availability)
    assert record_key(availability) == availability.client_pseudonym.encode()
