"""The roll-out phases (appendix 3 of the working document) as data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from hub.errors import ConfigError
from schemas.regions import Region
from schemas.rollout import load_rollout, shipped_rollout


def test_the_shipped_phasing_is_appendix_3() -> None:
    rollout = shipped_rollout()
    for region in (Region.GROOT_AMSTERDAM, Region.MIDDEN_BRABANT, Region.MIDDEN_UTRECHT):
        assert rollout.live_from(region) == date(2020, 11, 1)  # the start regions
    assert rollout.live_from(Region.RIJNMOND) == date(2020, 12, 1)
    assert rollout.live_from(Region.HAAGLANDEN) == date(2021, 1, 1)
    assert rollout.live_from(Region.TWENTE) == date(2021, 2, 1)
    assert rollout.live_from(Region.ZEELAND) == date(2021, 3, 1)  # the other regions
    assert not rollout.is_live(Region.ZEELAND, date(2021, 2, 28))
    assert rollout.is_live(Region.ZEELAND, date(2021, 3, 1))
    assert load_rollout(None) is rollout


@pytest.mark.parametrize(
    ("phases", "says"),
    [
        ([{"phase": 1, "live_from": "2021-01-01", "regions": ["ZEELAND"]}], "no phase for"),
        (
            [
                {"phase": 1, "live_from": "2021-01-01", "regions": ["ZEELAND"]},
                {"phase": 2, "live_from": "2021-02-01", "regions": ["ZEELAND"]},
                {"phase": 3, "live_from": "2021-02-01", "regions": "others"},
            ],
            "names ZEELAND again",
        ),
        (
            [
                {"phase": 1, "live_from": "2021-01-01", "regions": "others"},
                {"phase": 2, "live_from": "2021-02-01", "regions": "others"},
            ],
            "at most one",
        ),
        ([{"phase": 1, "live_from": "2021-01-01", "regions": ["ATLANTIS"]}], "regions"),
    ],
)
def test_a_bad_roll_out_file_is_refused_saying_why(
    tmp_path: Path, phases: list[dict[str, object]], says: str
) -> None:
    path = tmp_path / "rollout.json"
    path.write_text(json.dumps({"phases": phases}), encoding="utf-8")
    with pytest.raises(ConfigError, match="roll-out file") as raised:
        load_rollout(path)
    assert says in str(raised.value)


def test_an_unreadable_roll_out_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        load_rollout(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid JSON at line 1"):
        load_rollout(broken)
