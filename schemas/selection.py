"""The selection aid: the working document's criteria, scored with weights per region.

At intake the first-responsible party weighs the selection criteria together; no single
criterion decides, and people in the banenafspraak target group are eligible by
definition. :func:`assess` reads from a profile which criteria apply (those the data can
tell; own need and motivation, and whether someone left school, are the professional's),
:func:`advise` scores them with the region's weights and shows each criterion's
contribution. The result is advice: the decision (``IntakeDecision.selected``) stays the
professional's. Weights and threshold are data (``schemas/reference/selection.json``, a
region's own under ``regions``), not code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from hub.configfile import load_config
from schemas.models import ClientProfile
from schemas.models.enums import SelectionCriterion
from schemas.regions import Region
from schemas.vocabulary import YOUNG_PERSON_AGE_LIMIT, EducationLevel, LanguageLevel, age_on

__all__ = [
    "Advice",
    "Assessment",
    "Contribution",
    "SelectionWeights",
    "advise",
    "assess",
    "load_weights",
]

OLDER_FROM = 55
"""From this age the age criterion applies again (the monitor's band "55 and over")."""
ONE_SIDED_YEARS = 10
"""Years in the last job from which a work history counts as one-sided."""
_BELOW_B2 = frozenset({LanguageLevel.A1, LanguageLevel.A2, LanguageLevel.B1})
_MBO = frozenset(
    {EducationLevel.MBO_1, EducationLevel.MBO_2, EducationLevel.MBO_3, EducationLevel.MBO_4}
)


class _Weights(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: dict[SelectionCriterion, float]
    threshold: float


class SelectionWeights(BaseModel):
    """Weights per criterion and the threshold of a selection suggestion, per region."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = ""
    weights: dict[SelectionCriterion, float]
    threshold: float
    regions: dict[Region, _Weights] = {}

    def of(self, region: Region | None) -> tuple[Mapping[SelectionCriterion, float], float]:
        """The weights (every criterion; the default where the region says nothing) and
        threshold of ``region``."""
        own = self.regions.get(region) if region is not None else None
        if own is None:
            return self.weights, self.threshold
        return {**self.weights, **own.weights}, own.threshold


@dataclass(frozen=True)
class Assessment:
    """Whether a criterion applies: True, False, or None (the data cannot tell)."""

    criterion: SelectionCriterion
    applies: bool | None
    why: str


@dataclass(frozen=True)
class Contribution:
    criterion: SelectionCriterion
    applies: bool | None
    weight: float
    points: float
    why: str


@dataclass(frozen=True)
class Advice:
    """The score, the threshold, each criterion's contribution, and what it suggests."""

    region: Region | None
    score: float
    threshold: float
    contributions: tuple[Contribution, ...]
    eligible_by_definition: bool

    @property
    def suggests_selection(self) -> bool:
        return self.eligible_by_definition or self.score >= self.threshold

    @property
    def open_questions(self) -> tuple[SelectionCriterion, ...]:
        """The criteria the professional still has to judge."""
        return tuple(c.criterion for c in self.contributions if c.applies is None)


def assess(profile: ClientProfile, on: date, *, own_need: bool | None = None) -> list[Assessment]:
    """Which criteria apply to the person of ``profile`` on day ``on``."""
    out = [
        Assessment(
            SelectionCriterion.OWN_NEED_MOTIVATION,
            own_need,
            "the professional's judgement" if own_need is None else "given by the professional",
        )
    ]
    sectors = list(profile.sectors or ())
    out.append(
        Assessment(
            SelectionCriterion.SHRINKING_SECTOR,
            any(s.shrinking for s in sectors) if sectors else None,
            "sector before unemployment: " + (", ".join(s.value for s in sectors) or "unknown"),
        )
    )
    qualified = profile.starting_qualification
    out.append(
        Assessment(
            SelectionCriterion.NO_STARTING_QUALIFICATION,
            None if qualified is None else not qualified,
            "starting qualification: "
            + ("unknown" if qualified is None else str(qualified).lower()),
        )
    )
    level = profile.education_level
    out.append(
        Assessment(
            SelectionCriterion.MBO_LEVEL,
            None if level is None else level in _MBO,
            f"education: {level.value if level else 'unknown'}",
        )
    )
    out.append(Assessment(SelectionCriterion.SCHOOL_LEAVER, None, "the professional's judgement"))
    out.append(_one_sided(profile, on))
    language = profile.language_level
    out.append(
        Assessment(
            SelectionCriterion.LANGUAGE_BELOW_B2,
            None if language is None else language in _BELOW_B2,
            f"oral Dutch: {language.value if language else 'unknown'}",
        )
    )
    born = profile.date_of_birth
    age = None if born is None else age_on(born, on)
    said = f"age {age}" if age is not None else "age unknown"
    out.append(
        Assessment(
            SelectionCriterion.AGE_UNDER_27,
            None if age is None else age < YOUNG_PERSON_AGE_LIMIT,
            said,
        )
    )
    out.append(
        Assessment(SelectionCriterion.AGE_OVER_55, None if age is None else age >= OLDER_FROM, said)
    )
    return out


def _one_sided(profile: ClientProfile, on: date) -> Assessment:
    jobs = list(profile.work_history or ())
    if not jobs:
        return Assessment(SelectionCriterion.ONE_SIDED_WORK_HISTORY, None, "no work history")
    last = max(jobs, key=lambda j: j.end_date or on)
    years = age_on(last.start_date, last.end_date or on)
    return Assessment(
        SelectionCriterion.ONE_SIDED_WORK_HISTORY,
        years >= ONE_SIDED_YEARS,
        f"{years} years in the last job ({last.job_title})",
    )


def advise(
    assessments: list[Assessment],
    *,
    region: Region | None = None,
    banenafspraak: bool = False,
    weights: SelectionWeights | None = None,
) -> Advice:
    """Score ``assessments`` with ``region``'s weights; banenafspraak: eligible by definition."""
    table, threshold = (weights or load_weights()).of(region)
    rows = tuple(
        Contribution(
            a.criterion,
            a.applies,
            table.get(a.criterion, 0.0),
            table.get(a.criterion, 0.0) if a.applies else 0.0,
            a.why,
        )
        for a in assessments
    )
    return Advice(region, sum(r.points for r in rows), threshold, rows, banenafspraak)


def load_weights(path: Path | None = None) -> SelectionWeights:
    """The weights of ``path`` (JSON), or the shipped ones; ConfigError says what is wrong."""
    if path is None:
        return _shipped()
    return load_config(
        SelectionWeights, "selection weights", str(path), lambda: path.read_text(encoding="utf-8")
    )


@cache
def _shipped() -> SelectionWeights:
    text = resources.files("schemas").joinpath("reference/selection.json").read_text("utf-8")
    return SelectionWeights.model_validate(json.loads(text))
