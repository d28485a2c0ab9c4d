"""The selection aid: criteria from the profile's data, weights per region, advice only."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from hub.errors import ConfigError
from schemas.examples import example
from schemas.models import ClientProfile
from schemas.models.enums import SelectionCriterion
from schemas.regions import Region
from schemas.selection import advise, assess, load_weights
from schemas.vocabulary import EducationLevel, LanguageLevel, Sector

ON = date(2021, 3, 9)


def _profile(**changes: object) -> ClientProfile:
    base = example("ClientProfile")
    assert isinstance(base, ClientProfile)
    return base.model_copy(update=changes)


def _applies(
    profile: ClientProfile, **kwargs: bool | None
) -> dict[SelectionCriterion, bool | None]:
    return {a.criterion: a.applies for a in assess(profile, ON, **kwargs)}


def test_the_criteria_are_read_from_the_profile_s_data() -> None:
    cook = _profile()  # the example: a cook of 56, mbo 2, 17 years in hospitality, B1
    applies = _applies(cook)
    assert applies[SelectionCriterion.SHRINKING_SECTOR] is True  # hospitality
    assert applies[SelectionCriterion.AGE_OVER_55] is True
    assert applies[SelectionCriterion.AGE_UNDER_27] is False
    assert applies[SelectionCriterion.MBO_LEVEL] is True
    assert applies[SelectionCriterion.LANGUAGE_BELOW_B2] is True
    assert applies[SelectionCriterion.ONE_SIDED_WORK_HISTORY] is True
    # what the data cannot tell is the professional's
    assert applies[SelectionCriterion.OWN_NEED_MOTIVATION] is None
    assert applies[SelectionCriterion.SCHOOL_LEAVER] is None
    assert set(applies) == set(SelectionCriterion)
    other = _profile(
        sectors=[Sector.HEALTHCARE],
        education_level=EducationLevel.HBO,
        starting_qualification=True,
        language_level=LanguageLevel.C1,
        date_of_birth=date(1985, 1, 1),
        work_history=[],
    )
    applies = _applies(other, own_need=True)
    assert applies[SelectionCriterion.OWN_NEED_MOTIVATION] is True
    assert applies[SelectionCriterion.SHRINKING_SECTOR] is False
    assert applies[SelectionCriterion.NO_STARTING_QUALIFICATION] is False
    assert applies[SelectionCriterion.LANGUAGE_BELOW_B2] is False
    assert applies[SelectionCriterion.ONE_SIDED_WORK_HISTORY] is None  # no history given


def test_advice_shows_each_contribution_and_leaves_the_decision_open() -> None:
    advice = advise(assess(_profile(), ON))
    weights, threshold = load_weights().of(None)
    assert advice.threshold == threshold
    assert advice.score == sum(weights[c.criterion] for c in advice.contributions if c.applies)
    for row in advice.contributions:
        assert row.points == (row.weight if row.applies else 0.0)
        assert row.why
    assert advice.suggests_selection  # five criteria apply
    assert set(advice.open_questions) == {
        SelectionCriterion.OWN_NEED_MOTIVATION,
        SelectionCriterion.SCHOOL_LEAVER,
    }
    nothing = advise(
        assess(
            _profile(
                sectors=[],
                work_history=[],
                date_of_birth=date(1985, 1, 1),
                education_level=EducationLevel.HBO,
                language_level=LanguageLevel.C1,
                starting_qualification=True,
            ),
            ON,
        )
    )
    assert nothing.score == 0
    assert not nothing.suggests_selection
    # banenafspraak: eligible by definition, whatever the score
    assert advise([], banenafspraak=True).suggests_selection


def test_a_region_weighs_with_its_own_weights(tmp_path: Path) -> None:
    path = tmp_path / "selection.json"
    shipped = json.loads(Path("schemas/reference/selection.json").read_text(encoding="utf-8"))
    shipped["regions"] = {
        "RIJNMOND": {"weights": {"AGE_OVER_55": 3.0}, "threshold": 10.0},
    }
    path.write_text(json.dumps(shipped), encoding="utf-8")
    weights = load_weights(path)
    cook = assess(_profile(), ON)
    amsterdam = advise(cook, region=Region.GROOT_AMSTERDAM, weights=weights)
    rijnmond = advise(cook, region=Region.RIJNMOND, weights=weights)
    assert rijnmond.score == amsterdam.score + 2.0  # age over 55 weighs 3 there, 1 elsewhere
    assert amsterdam.suggests_selection
    assert not rijnmond.suggests_selection  # its own threshold


def test_bad_weights_are_refused_saying_where(tmp_path: Path) -> None:
    path = tmp_path / "selection.json"
    path.write_text(json.dumps({"weights": {"LUCK": 1.0}, "threshold": 1}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"selection weights .*weights\.LUCK"):
        load_weights(path)
