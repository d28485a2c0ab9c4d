"""People against vacancies: a score per criterion, each explained, pre-indexed.

A person is proposed for a vacancy in their own region or a neighbouring one
(:func:`hub.matching.regions.reach`), as a **direct** match (no gaps; or, on a vacancy
that takes no trainees, at least :data:`MIN_COVERAGE` of the competences and no education
or language gap) or as a **trainable** one (the vacancy takes trainees and a menu-card
instrument closes every gap: :data:`~schemas.menu_card.Instrument.PRACTICAL_LEARNING_MBO`
or ``SCHOOLING`` for a competence, as the vocabulary says; praktijkleren towards an mbo
certificate, or schooling, for the education level; language education for Dutch).

Scoring every pair would be vacancies x people set operations in Python. Instead the
:class:`Pool` indexes people by region and vocabulary entry; for a vacancy it counts, in
one pass over the posting lists of its competences and occupations, how much each person
in reach shares with it, and scores in full only the :data:`SHORTLIST` who share most. A
person sharing no competence and no occupation with a vacancy that takes no trainees is
never proposed for it (their competence and occupation scores are 0); a vacancy that
takes trainees and has fewer than :data:`SHORTLIST` sharers is filled up with others in
reach (someone sharing nothing may be trainable for it). docs/decisions/0023-matching.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

from hub.matching.model import Candidate, Criterion, CriterionScore, MatchKind, Opening, Proposal
from hub.matching.regions import neighbours, reach
from hub.matching.vocabulary import CompetenceVocabulary
from schemas.menu_card import Instrument
from schemas.regions import Region
from schemas.vocabulary import EducationLevel, LanguageLevel

__all__ = [
    "MIN_COVERAGE",
    "SHORTLIST",
    "TRAINED_CREDIT",
    "WEIGHTS",
    "Pool",
    "propose",
    "propose_all",
    "score",
]

WEIGHTS: dict[Criterion, float] = {
    Criterion.COMPETENCES: 0.35,
    Criterion.OCCUPATION: 0.15,
    Criterion.SECTOR: 0.10,
    Criterion.EDUCATION: 0.15,
    Criterion.LANGUAGE: 0.10,
    Criterion.HOURS: 0.10,
    Criterion.REGION: 0.05,
}
"""The weight of each criterion in the score (they sum to 1)."""
TRAINED_CREDIT = 0.5
"""What a gap closed by training counts, against 1 for what the person has."""
UNKNOWN_CREDIT = 0.5
"""What a criterion counts whose data the person's consent keeps from matching."""
NEIGHBOUR_CREDIT = 0.7
"""The region score of a vacancy in a neighbouring region (own region: 1)."""
MIN_COVERAGE = 0.5
"""The share of a vacancy's competences a direct proposal needs when it takes no trainees."""
SHORTLIST = 300
"""How many people, those sharing most with a vacancy, are scored in full."""

_EDUCATION_RANK: dict[EducationLevel, int] = {
    EducationLevel.NONE: 0,
    EducationLevel.VMBO: 1,
    EducationLevel.MBO_1: 2,
    EducationLevel.MBO_2: 3,
    EducationLevel.MBO_3: 4,
    EducationLevel.MBO_4: 5,
    EducationLevel.HAVO_VWO: 5,
    EducationLevel.HBO: 6,
    EducationLevel.WO: 7,
}
_LANGUAGE_RANK = {level: rank for rank, level in enumerate(LanguageLevel)}
_MBO_TOP = _EDUCATION_RANK[EducationLevel.MBO_4]


def _competences(
    c: Candidate, o: Opening, vocab: CompetenceVocabulary
) -> tuple[CriterionScore, list[str], tuple[Instrument, ...]]:
    """The competence score, the gaps no instrument closes, the instruments that close
    the others."""
    if not o.competences:
        return (
            CriterionScore(Criterion.COMPETENCES, 1.0, 0, "vacature vraagt geen competenties"),
            [],
            (),
        )
    has = o.competences & c.competences
    missing = sorted(o.competences - c.competences)
    untrainable = [m for m in missing if not vocab.competence_entry(m).trainable_by]
    instruments = tuple(
        dict.fromkeys(
            vocab.competence_entry(m).trainable_by[0] for m in missing if m not in untrainable
        )
    )
    credit = len(has) + TRAINED_CREDIT * (len(missing) - len(untrainable)) * o.trainable
    value = credit / len(o.competences)
    names = ", ".join(vocab.competence_entry(h).name for h in sorted(has)) or "geen"
    text = f"heeft {len(has)} van {len(o.competences)} gevraagde competenties ({names})"
    if missing:
        text += "; mist " + ", ".join(vocab.competence_entry(m).name for m in missing)
    return (
        CriterionScore(Criterion.COMPETENCES, value, 0, text, instruments),
        untrainable,
        instruments,
    )


def _education(c: Candidate, o: Opening) -> tuple[CriterionScore, bool, tuple[Instrument, ...]]:
    """Score, whether there is a gap, the instrument that closes it (none: not trainable)."""
    if o.education_level is None:
        return CriterionScore(Criterion.EDUCATION, 1.0, 0, "geen opleidingseis"), False, ()
    if c.education_level is None:
        return (
            CriterionScore(
                Criterion.EDUCATION, UNKNOWN_CREDIT, 0, "opleiding onbekend (geen toestemming)"
            ),
            False,
            (),
        )
    need, has = _EDUCATION_RANK[o.education_level], _EDUCATION_RANK[c.education_level]
    qualified = " met startkwalificatie" if c.starting_qualification else ""
    if has >= need:
        text = f"{c.education_level}{qualified} voldoet aan {o.education_level}"
        return CriterionScore(Criterion.EDUCATION, 1.0, 0, text), False, ()
    if need <= _MBO_TOP:
        instrument: tuple[Instrument, ...] = (Instrument.PRACTICAL_LEARNING_MBO,)
        how = "praktijkleren naar een mbo-certificaat"
    elif has >= _MBO_TOP:
        instrument, how = (Instrument.SCHOOLING,), "scholing"
    else:
        instrument, how = (), "niet via de menukaart"
    text = f"{c.education_level} onder de eis {o.education_level}; te overbruggen: {how}"
    value = TRAINED_CREDIT if instrument and o.trainable else 0.0
    return CriterionScore(Criterion.EDUCATION, value, 0, text, instrument), True, instrument


def _language(c: Candidate, o: Opening) -> tuple[CriterionScore, bool, tuple[Instrument, ...]]:
    if o.language_level is None:
        return CriterionScore(Criterion.LANGUAGE, 1.0, 0, "geen taaleis"), False, ()
    if c.language_level is None:
        text = "taalniveau onbekend (geen toestemming of niet vastgelegd)"
        return CriterionScore(Criterion.LANGUAGE, UNKNOWN_CREDIT, 0, text), False, ()
    if _LANGUAGE_RANK[c.language_level] >= _LANGUAGE_RANK[o.language_level]:
        text = f"Nederlands {c.language_level} voldoet aan {o.language_level}"
        return CriterionScore(Criterion.LANGUAGE, 1.0, 0, text), False, ()
    instrument = (Instrument.LANGUAGE_EDUCATION,)
    text = f"Nederlands {c.language_level} onder de eis {o.language_level}; taalonderwijs"
    value = TRAINED_CREDIT if o.trainable else 0.0
    return CriterionScore(Criterion.LANGUAGE, value, 0, text, instrument), True, instrument


def _hours(c: Candidate, o: Opening) -> CriterionScore:
    if c.hours_per_week is None or o.hours_per_week <= 0:
        return CriterionScore(Criterion.HOURS, UNKNOWN_CREDIT, 0, "gewenste uren onbekend")
    wanted, offered = c.hours_per_week, o.hours_per_week
    value = 1.0 - abs(wanted - offered) / max(wanted, offered)
    return CriterionScore(Criterion.HOURS, value, 0, f"zoekt {wanted} uur, vacature {offered} uur")


def _occupation(c: Candidate, o: Opening, vocab: CompetenceVocabulary) -> CriterionScore:
    shared = sorted(o.occupations & c.occupations)
    if shared:
        text = "ervaring als " + ", ".join(vocab.occupation_entry(s).name for s in shared)
        return CriterionScore(Criterion.OCCUPATION, 1.0, 0, text)
    return CriterionScore(Criterion.OCCUPATION, 0.0, 0, "geen ervaring in dit beroep")


def _sector(c: Candidate, o: Opening) -> CriterionScore:
    if o.sector in c.sectors:
        return CriterionScore(Criterion.SECTOR, 1.0, 0, f"werkte in de sector {o.sector}")
    return CriterionScore(Criterion.SECTOR, 0.0, 0, f"nieuw in de sector {o.sector}")


def _region(c: Candidate, o: Opening) -> CriterionScore | None:
    if c.region is o.region:
        return CriterionScore(Criterion.REGION, 1.0, 0, f"woont in de regio {o.region}")
    if c.region in neighbours(o.region):
        text = f"woont in de buurregio {c.region}"
        return CriterionScore(Criterion.REGION, NEIGHBOUR_CREDIT, 0, text)
    return None


def score(c: Candidate, o: Opening, vocab: CompetenceVocabulary) -> Proposal | None:
    """The proposal of ``c`` for ``o``, or None when they do not match."""
    region = _region(c, o)
    if region is None:
        return None
    competences, untrainable, trained = _competences(c, o, vocab)
    education, education_gap, education_fix = _education(c, o)
    language, language_gap, language_fix = _language(c, o)
    gaps = bool(competences.score < 1.0) or education_gap or language_gap
    if not gaps:
        kind = MatchKind.DIRECT
    elif (
        o.trainable
        and not untrainable
        and (not education_gap or education_fix)
        and (not language_gap or language_fix)
    ):
        kind = MatchKind.TRAINABLE
    elif (
        not o.trainable
        and not education_gap
        and not language_gap
        and len(o.competences & c.competences) >= MIN_COVERAGE * len(o.competences)
    ):
        kind = MatchKind.DIRECT
    else:
        return None
    parts = (
        competences,
        _occupation(c, o, vocab),
        _sector(c, o),
        education,
        language,
        _hours(c, o),
        region,
    )
    weighted = tuple(
        CriterionScore(
            p.criterion, round(p.score, 3), WEIGHTS[p.criterion], p.explanation, p.instruments
        )
        for p in parts
    )
    total = round(sum(p.score * p.weight for p in weighted), 4)
    instruments = (
        tuple(dict.fromkeys((*trained, *education_fix, *language_fix)))
        if kind is MatchKind.TRAINABLE
        else ()
    )
    return Proposal(
        o.vacancy_id, c.pseudonym, c.first_responsible, kind, total, weighted, instruments
    )


class Pool:
    """The available people, indexed by region and vocabulary entry."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.candidates: list[Candidate] = list(candidates)
        self._postings: dict[Region, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._members: dict[Region, list[int]] = defaultdict(list)
        for index, c in enumerate(self.candidates):
            self._members[c.region].append(index)
            postings = self._postings[c.region]
            for entry in c.competences:
                postings["c:" + entry].append(index)
            for entry in c.occupations:
                postings["o:" + entry].append(index)

    def __len__(self) -> int:
        return len(self.candidates)

    def in_reach(self, opening: Opening) -> int:
        """How many people live where ``opening`` may be proposed to."""
        return sum(len(self._members.get(r, ())) for r in reach(opening.region))

    def shortlist(self, opening: Opening, size: int = SHORTLIST) -> list[Candidate]:
        """The ``size`` people in reach who share most entries with ``opening``; for a
        vacancy that takes trainees, filled up with others in reach when fewer share any
        (someone sharing nothing may be trainable for it)."""
        shared: Counter[int] = Counter()
        keys = [*("c:" + e for e in opening.competences), *("o:" + e for e in opening.occupations)]
        for region in reach(opening.region):
            postings = self._postings.get(region)
            if postings is None:
                continue
            for key in keys:
                found = postings.get(key)
                if found:
                    shared.update(found)
        chosen = [i for i, _ in shared.most_common(size)]
        if opening.trainable and len(chosen) < size:
            for region in sorted(reach(opening.region)):
                for i in self._members.get(region, ()):
                    if len(chosen) >= size:
                        break
                    if i not in shared:
                        chosen.append(i)
        return [self.candidates[i] for i in chosen]


def propose(
    opening: Opening, pool: Pool, vocab: CompetenceVocabulary, *, top: int = 5
) -> list[Proposal]:
    """The ``top`` proposals for ``opening``, best first (ties: by pseudonym)."""
    found = [p for c in pool.shortlist(opening) if (p := score(c, opening, vocab)) is not None]
    found.sort(key=lambda p: (-p.score, p.pseudonym))
    return found[:top]


def propose_all(
    openings: Sequence[Opening],
    pool: Pool,
    vocab: CompetenceVocabulary,
    *,
    top: int = 5,
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[Proposal]]:
    """The proposals for every opening; ``progress`` is called after each."""
    proposals: dict[str, list[Proposal]] = {}
    for opening in openings:
        proposals[opening.vacancy_id] = propose(opening, pool, vocab, top=top)
        if progress is not None:
            progress(1)
    return proposals
