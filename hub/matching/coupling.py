"""Company-to-company coupling: a company with a staff surplus to companies with
vacancies in the same region whose competences or occupations overlap.

Business data only (no person is involved, so no consent): a :class:`Coupling` names the
two companies, what their staff and the vacancy share, whether the sector is the same,
and how many positions meet how many surplus staff. Within a region, couplings are
ranked by :attr:`Coupling.score`: the share of the vacancy's competences the surplus
staff bring, plus :data:`OCCUPATION_BONUS` for a shared occupation and
:data:`SECTOR_BONUS` for the same sector (at most 1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from hub.matching.model import Opening
from hub.matching.vocabulary import CompetenceVocabulary
from schemas.models import StaffSurplus
from schemas.regions import Region
from schemas.vocabulary import Sector

__all__ = ["OCCUPATION_BONUS", "SECTOR_BONUS", "Coupling", "SurplusCompany", "couple", "surplus"]

OCCUPATION_BONUS = 0.3
SECTOR_BONUS = 0.2


@dataclass(frozen=True, slots=True)
class SurplusCompany:
    """A staff surplus, as coupling reads it."""

    surplus_id: str
    employer: str
    employer_kvk: str | None
    region: Region
    sector: Sector
    staff_count: int
    competences: frozenset[str]
    occupations: frozenset[str]


@dataclass(frozen=True, slots=True)
class Coupling:
    """A surplus company coupled to a company with a vacancy, and why (in Dutch)."""

    surplus_id: str
    vacancy_id: str
    region: Region
    score: float
    shared_competences: tuple[str, ...]
    shared_occupations: tuple[str, ...]
    same_sector: bool
    explanation: str


def surplus(record: StaffSurplus, vocab: CompetenceVocabulary) -> SurplusCompany:
    return SurplusCompany(
        surplus_id=record.surplus_id,
        employer=record.employer.name,
        employer_kvk=record.employer.kvk_number,
        region=record.region,
        sector=record.sector,
        staff_count=record.staff_count,
        competences=vocab.competence_ids([c.name for c in record.competences]),
        occupations=vocab.occupation_ids(list(record.occupations)),
    )


def _same_company(s: SurplusCompany, o: Opening) -> bool:
    if s.employer_kvk and o.employer_kvk:
        return s.employer_kvk == o.employer_kvk
    return s.employer.casefold() == o.employer.casefold()


def _coupling(s: SurplusCompany, o: Opening, vocab: CompetenceVocabulary) -> Coupling | None:
    competences = sorted(s.competences & o.competences)
    occupations = sorted(s.occupations & o.occupations)
    if not competences and not occupations:
        return None
    share = len(competences) / len(o.competences) if o.competences else 0.0
    same_sector = s.sector is o.sector
    value = min(1.0, share + OCCUPATION_BONUS * bool(occupations) + SECTOR_BONUS * same_sector)
    names = [vocab.competence_entry(c).name for c in competences]
    jobs = [vocab.occupation_entry(c).name for c in occupations]
    parts = [f"{s.employer} ({s.staff_count} boventallig) en {o.employer} ({o.title})"]
    if names:
        parts.append(
            f"delen {len(names)} van {len(o.competences)} competenties: " + ", ".join(names)
        )
    if jobs:
        parts.append("zelfde beroep: " + ", ".join(jobs))
    parts.append("zelfde sector" if same_sector else f"sector {s.sector} naar {o.sector}")
    parts.append(f"{o.positions} plaats(en)")
    return Coupling(
        surplus_id=s.surplus_id,
        vacancy_id=o.vacancy_id,
        region=s.region,
        score=round(value, 4),
        shared_competences=tuple(names),
        shared_occupations=tuple(jobs),
        same_sector=same_sector,
        explanation="; ".join(parts),
    )


def couple(
    surpluses: Iterable[SurplusCompany],
    openings: Iterable[Opening],
    vocab: CompetenceVocabulary,
) -> list[Coupling]:
    """Every coupling of a surplus to a vacancy of another company in its region, best
    first per surplus (then by vacancy id)."""
    by_region: dict[Region, list[Opening]] = defaultdict(list)
    for o in openings:
        by_region[o.region].append(o)
    found: list[Coupling] = []
    for s in surpluses:
        mine = [
            c
            for o in by_region.get(s.region, ())
            if not _same_company(s, o) and (c := _coupling(s, o, vocab)) is not None
        ]
        found += sorted(mine, key=lambda c: (-c.score, c.vacancy_id))
    return found
