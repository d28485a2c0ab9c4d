"""Neighbouring labour-market regions, from data (data/region_neighbours.json)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from hub.matching.errors import MatchingError
from schemas.regions import Region

__all__ = ["neighbours", "reach"]


@cache
def _table() -> dict[Region, frozenset[Region]]:
    text = (
        resources.files("hub.matching").joinpath("data/region_neighbours.json").read_text("utf-8")
    )
    found: dict[Region, set[Region]] = {region: set() for region in Region}
    try:
        for a, b in json.loads(text)["neighbours"]:
            found[Region(a)].add(Region(b))
            found[Region(b)].add(Region(a))
    except (KeyError, TypeError, ValueError) as exc:
        raise MatchingError(f"region_neighbours.json is malformed: {exc!r}") from exc
    return {region: frozenset(near - {region}) for region, near in found.items()}


def neighbours(region: Region) -> frozenset[Region]:
    """The regions bordering ``region`` (not itself)."""
    return _table()[region]


def reach(region: Region) -> frozenset[Region]:
    """``region`` and its neighbours: where a person is proposed for work."""
    return neighbours(region) | {region}
