"""Small-cell suppression: primary, secondary, and what an attacker can still derive."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.monitor.aggregate import Aggregator
from hub.monitor.pseudonym import MODHEX
from hub.monitor.report import build_report, render_json
from hub.monitor.suppression import TOTAL, Grid, Rule, Unit, bounds, protect
from schemas.models import MonitorEvent
from schemas.models.enums import AgeBand, MonitorEventType
from schemas.regions import Region
from schemas.vocabulary import PartnerKind
from tests.monitor.lp import interval

PERIOD = "2021-03/04"


def _grid(data: dict[str, list[int]], *, row_totals: bool = True, cols: int | None = None) -> Grid:
    width = cols or len(next(iter(data.values())))
    names = [f"c{j}" for j in range(width)]
    return Grid.build(
        "t",
        "test",
        list(data),
        names,
        unit=Unit.PERSONS,
        cell=lambda r, c: (data[r][names.index(c)],) * 2,
        row_total=(lambda r: (sum(data[r]),) * 2) if row_totals else None,
    )


def _lp_bounds(grid: Grid, key: tuple[str, str]) -> tuple[object, object]:
    """The interval of ``key`` from the published entries only, by linear programming."""
    names = [f"{r}|{c}" for r, c in sorted(grid.suppressed)]
    equations = []
    for relation in grid.relations():
        *parts, total = relation
        coefficients: dict[str, int] = {}
        constant = 0
        for entry, sign in [*((p, 1) for p in parts), (total, -1)]:
            if entry in grid.suppressed:
                name = f"{entry[0]}|{entry[1]}"
                coefficients[name] = coefficients.get(name, 0) + sign
            else:
                constant -= sign * grid.values[entry]
        if coefficients:
            equations.append((coefficients, constant))
    return interval(names, equations, {f"{key[0]}|{key[1]}": 1})


def test_primary_suppression_hides_small_cells_not_zeros_or_large_ones() -> None:
    grid = protect(
        _grid({"A": [3, 20, 30], "B": [15, 12, 40], "C": [22, 18, 11], "D": [0, 25, 14]})
    )
    assert grid.primary == {("A", "c0")}
    assert grid.is_suppressed("A", "c0")
    assert not grid.is_suppressed("D", "c0")  # zero: nobody behind it
    assert grid.published(TOTAL, TOTAL) == sum(grid.values[r, TOTAL] for r in grid.rows)
    # secondary: no relation holds exactly one suppressed entry
    for relation in grid.relations():
        assert sum(entry in grid.suppressed for entry in relation) != 1


def test_secondary_suppression_leaves_an_interval_at_least_the_threshold_wide() -> None:
    grid = protect(
        _grid({"A": [3, 20, 30], "B": [15, 12, 40], "C": [22, 18, 11], "D": [0, 25, 14]})
    )
    low, high = bounds(grid, ("A", "c0"))
    assert low == 0
    assert high is not None
    assert high - low >= 10
    assert _lp_bounds(grid, ("A", "c0")) == (low, high)


def test_a_small_row_total_is_suppressed_and_protected_too() -> None:
    grid = protect(_grid({"A": [3, 0, 2], "B": [15, 12, 40], "C": [22, 18, 11], "D": [10, 25, 14]}))
    assert ("A", TOTAL) in grid.primary
    for key in grid.primary:
        low, high = bounds(grid, key)
        assert high is None or high - low >= 10, key


def test_columns_without_row_totals_protect_per_column() -> None:
    grid = protect(_grid({"A": [4, 30], "B": [12, 50], "C": [25, 60]}, row_totals=False))
    assert grid.primary == {("A", "c0")}
    assert ("B", "c0") in grid.suppressed  # the smallest other cell of the column
    assert not grid.is_suppressed("A", "c1")  # rows are no relation: nothing to hide there
    low, high = bounds(grid, ("A", "c0"))
    assert (low, high) == (0, 16)
    assert _lp_bounds(grid, ("A", "c0")) == (0, 16)


def test_a_threshold_of_one_suppresses_nothing() -> None:
    grid = protect(_grid({"A": [1, 2], "B": [3, 4]}), Rule(threshold=1))
    assert grid.suppressed == set()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=2, max_value=5).flatmap(
        lambda rows: st.integers(min_value=1, max_value=4).flatmap(
            lambda cols: st.tuples(
                st.lists(
                    st.lists(st.integers(0, 30), min_size=cols, max_size=cols),
                    min_size=rows,
                    max_size=rows,
                ),
                st.booleans(),
            )
        )
    )
)
def test_the_audit_is_exact_and_every_small_figure_is_protected(
    case: tuple[list[list[int]], bool],
) -> None:
    table, row_totals = case
    grid = protect(_grid({f"r{i}": row for i, row in enumerate(table)}, row_totals=row_totals))
    for key in grid.suppressed:
        assert bounds(grid, key) == _lp_bounds(grid, key), key
    for key in grid.primary:
        low, high = bounds(grid, key)
        assert high is None or high - low >= 10, key


# --- the test: 3 people in one cell of one region ------------------------------------


def _event(n: int, region: Region, band: AgeBand) -> MonitorEvent:
    return MonitorEvent(
        event_id=f"00000000-0000-4000-8000-{n:012d}",
        occurred_at=datetime(2021, 3, 15, tzinfo=UTC),
        source_partner="uwv",
        monitor_pseudonym="m1-" + "".join(MODHEX[int(ch, 16)] for ch in f"{n:032x}"),
        event_type=MonitorEventType.INTAKE,
        region=region,
        period=PERIOD,
        partner_kind=PartnerKind.UWV,
        age_band=band,
    )


def test_three_people_in_one_cell_cannot_be_derived_nor_their_complement() -> None:
    people = {
        # Zeeland: 3 young people (the cell), and enough others to publish its total
        Region.ZEELAND: {AgeBand.UNDER_27: 3, AgeBand.FROM_27_TO_54: 25, AgeBand.FROM_55: 14},
        Region.GRONINGEN: {AgeBand.UNDER_27: 40, AgeBand.FROM_27_TO_54: 61, AgeBand.FROM_55: 22},
        Region.TWENTE: {AgeBand.UNDER_27: 17, AgeBand.FROM_27_TO_54: 33, AgeBand.FROM_55: 12},
        Region.RIJNMOND: {AgeBand.UNDER_27: 52, AgeBand.FROM_27_TO_54: 80, AgeBand.FROM_55: 31},
    }
    aggregator = Aggregator()
    n = 0
    for region, bands in people.items():
        for band, count in bands.items():
            for _ in range(count):
                n += 1
                aggregator.apply(_event(n, region, band))
    published = json.loads(render_json(build_report(aggregator, PERIOD)))
    reach = next(t for t in published["tables"] if t["name"] == "reach")
    columns = [c["key"] for c in reach["columns"]]
    rows = [r["key"] for r in reach["rows"]]
    value = {(r["key"], c): r["cells"][c]["value"] for r in reach["rows"] for c in columns}
    zeeland, young = Region.ZEELAND.value, AgeBand.UNDER_27.value
    assert value[zeeland, young] is None  # the cell itself is not published
    assert value[zeeland, TOTAL] == 42  # the region's total is

    # What an attacker knows: the published figures and that rows and columns add up.
    unknown = sorted(k for k, v in value.items() if v is None)
    names = [f"{r}|{c}" for r, c in unknown]
    equations = []
    bands = [c for c in columns if c != TOTAL]
    lines = [([(r, c) for c in bands], (r, TOTAL)) for r in rows]
    lines += [([(r, c) for r in rows if r != TOTAL], (TOTAL, c)) for c in columns]
    for parts, total in lines:
        coefficients: dict[str, int] = {}
        constant = 0
        for entry, sign in [*((p, 1) for p in parts), (total, -1)]:
            if value[entry] is None:
                coefficients[f"{entry[0]}|{entry[1]}"] = sign
            else:
                constant -= sign * value[entry]
        if coefficients:
            equations.append((coefficients, constant))
    low, high = interval(names, equations, {f"{zeeland}|{young}": 1})
    assert low is not None
    assert low <= 0
    assert high is None or high >= 3 + 10 - 1  # anywhere from 0 to well above the threshold
    # the complement: Zeeland's people in the other age bands
    others = {f"{zeeland}|{c}": 1 for c in bands if c != young and value[zeeland, c] is None}
    known = sum(value[zeeland, c] or 0 for c in bands if c != young)
    low_c, high_c = interval(names, equations, others, constant=known)
    assert low_c is not None
    assert high_c is not None
    assert high_c - low_c >= 10  # 39 is not derivable either
    # and the national age totals do not give it away: young people outside Zeeland
    assert value[TOTAL, young] is None or any(
        value[r, young] is None for r in rows if r not in (zeeland, TOTAL)
    )


def test_the_suppression_test_helper_sees_a_published_cell_exactly() -> None:
    grid = protect(_grid({"A": [12, 20], "B": [15, 12]}))
    assert grid.suppressed == set()
    assert bounds(grid, ("A", "c0")) == (12, 12)
