"""What matching reads and what it proposes, each criterion explained.

A :class:`Candidate` is a person in the availability pool, reduced to what matching
reads; fields the person's consent does not let matching read are None (unknown), and
the explanation says so. An :class:`Opening` is a vacancy. Competences and occupations
are vocabulary entry ids (:mod:`hub.matching.vocabulary`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from schemas.menu_card import Instrument
from schemas.regions import Region
from schemas.vocabulary import EducationLevel, LanguageLevel, Sector

__all__ = ["Candidate", "Criterion", "CriterionScore", "MatchKind", "Opening", "Proposal"]


class Criterion(StrEnum):
    COMPETENCES = "COMPETENCES"
    OCCUPATION = "OCCUPATION"
    SECTOR = "SECTOR"
    EDUCATION = "EDUCATION"
    LANGUAGE = "LANGUAGE"
    HOURS = "HOURS"
    REGION = "REGION"


class MatchKind(StrEnum):
    DIRECT = "DIRECT"  # fits the vacancy as the person is
    TRAINABLE = "TRAINABLE"  # fits once menu-card instruments close the gaps named


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person available for placement whose consent covers matching."""

    pseudonym: str
    region: Region
    first_responsible: str
    competences: frozenset[str] = frozenset()
    occupations: frozenset[str] = frozenset()
    sectors: frozenset[Sector] = frozenset()
    education_level: EducationLevel | None = None
    starting_qualification: bool | None = None
    language_level: LanguageLevel | None = None
    hours_per_week: int | None = None


@dataclass(frozen=True, slots=True)
class Opening:
    """An open vacancy, as matching reads it."""

    vacancy_id: str
    employer: str
    title: str
    region: Region
    sector: Sector
    competences: frozenset[str] = frozenset()
    occupations: frozenset[str] = frozenset()
    education_level: EducationLevel | None = None
    language_level: LanguageLevel | None = None
    hours_per_week: int = 0
    trainable: bool = False
    positions: int = 1
    employer_kvk: str | None = None


@dataclass(frozen=True, slots=True)
class CriterionScore:
    """One criterion of a proposal: its score (0-1), weight, and why, in Dutch."""

    criterion: Criterion
    score: float
    weight: float
    explanation: str
    instruments: tuple[Instrument, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """A person proposed for a vacancy, with the score and the explanation per criterion."""

    vacancy_id: str
    pseudonym: str
    first_responsible: str
    kind: MatchKind
    score: float
    criteria: tuple[CriterionScore, ...]
    instruments: tuple[Instrument, ...] = field(default=())
    """The menu-card instruments that close the gaps (a trainable proposal only)."""

    def explain(self) -> str:
        """The proposal as readable text, one line per criterion."""
        head = f"{self.pseudonym} voor vacature {self.vacancy_id}: {self.score:.2f} ({self.kind})"
        lines = [head]
        for c in self.criteria:
            lines.append(f"  {c.criterion:<12} {c.score:.2f} x {c.weight:.2f}  {c.explanation}")
        if self.instruments:
            lines.append("  opleidbaar met: " + ", ".join(self.instruments))
        return "\n".join(lines)
