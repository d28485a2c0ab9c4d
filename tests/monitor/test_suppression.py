"""Disclosure control: primary, secondary and dominance suppression, and what a reader who
knows the rules can still derive."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.monitor.aggregate import Aggregator, Cell
from hub.monitor.pseudonym import MODHEX
from hub.monitor.report import build_report, render_json
from hub.monitor.suppression import TOTAL, Grid, Rule, Unit, bounds, narrowed, protect
from schemas.menu_card import Instrument
from schemas.models import Money, MonitorEvent
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
    """The interval of ``key`` from the published entries only, by linear programming: the
    relations hold, and a suppressed entry is at least 1 (zeros are published)."""
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
    lower = {f"{r}|{c}": min(1, grid.values[r, c]) for r, c in grid.suppressed}
    return interval(names, equations, {f"{key[0]}|{key[1]}": 1}, lower=lower)


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
    assert low == 1  # zeros are published: a suppressed entry is not zero
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
    assert (low, high) == (1, 15)
    assert _lp_bounds(grid, ("A", "c0")) == (1, 15)


def test_a_threshold_of_one_suppresses_nothing() -> None:
    grid = protect(_grid({"A": [1, 2], "B": [3, 4]}), Rule(threshold=1))
    assert grid.suppressed == set()


_CELL = st.sampled_from([0] * 17 + [*range(1, 10)] * 2 + [*range(10, 61, 3)])
"""About a third each: zeros, small entries (1 to 9) and large ones."""


@st.composite
def _tables(draw: st.DrawFn, *, max_rows: int = 6, max_cols: int = 5) -> Grid:
    rows = draw(st.integers(min_value=1, max_value=max_rows))
    cols = draw(st.integers(min_value=1, max_value=max_cols))
    flat = draw(st.lists(_CELL, min_size=rows * cols, max_size=rows * cols))
    table = {f"r{i}": flat[i * cols : (i + 1) * cols] for i in range(rows)}
    return _grid(table, row_totals=draw(st.booleans()))


@settings(max_examples=3000, deadline=None)
@given(_tables())
def test_no_suppressed_figure_can_be_narrowed_below_the_threshold(grid: Grid) -> None:
    rule = Rule()
    protect(grid, rule)
    assert narrowed(grid, rule) == []  # the reader's model: relations, published zeros
    positive = {key for key in grid.entries() if grid.values[key] > 0}
    assert grid.primary == {key for key in positive if grid.values[key] < rule.threshold}
    if grid.suppressed - positive:  # zeros are published, unless nothing else is left
        assert positive <= grid.suppressed
    for relation in grid.relations():
        assert sum(entry in grid.suppressed for entry in relation) != 1


@settings(max_examples=150, deadline=None)
@given(_tables(max_rows=4, max_cols=4))
def test_the_audit_is_exactly_the_readers_linear_program(grid: Grid) -> None:
    protect(grid)
    for key in grid.suppressed:
        low, high = bounds(grid, key)
        assert (low, high) == _lp_bounds(grid, key), key
        assert high is None or high - low >= 10, key


# --- the test: 3 people in one cell of one region ------------------------------------


def _event(
    n: int,
    region: Region,
    band: AgeBand | None = None,
    kind: MonitorEventType = MonitorEventType.INTAKE,
) -> MonitorEvent:
    return MonitorEvent(
        event_id=f"00000000-0000-4000-8000-{n:012d}",
        occurred_at=datetime(2021, 3, 15, tzinfo=UTC),
        source_partner="uwv",
        monitor_pseudonym="m1-" + "".join(MODHEX[int(ch, 16)] for ch in f"{n:032x}"),
        event_type=kind,
        region=region,
        period=PERIOD,
        partner_kind=PartnerKind.UWV,
        age_band=band,
    )


_ADDITIVE = {"time_to_work": ("n",), "budget": ("committed", "paid")}
"""Columns of a published table that add up (the others: all of them)."""


def _reader(
    table: dict[str, Any],
) -> tuple[list[str], list[tuple[dict[str, int], int]], dict[str, int]]:
    """What a reader who knows the rules gets from one published table: the unknowns, the
    relations (rows add up to a total column, columns to the national row) and that an
    unknown is at least 1 (zeros are published)."""
    columns = [c["key"] for c in table["columns"]]
    additive = list(_ADDITIVE.get(table["name"], columns))
    rows = [r["key"] for r in table["rows"]]
    value = {(r["key"], c): r["cells"][c]["value"] for r in table["rows"] for c in additive}
    unknown = sorted(k for k, v in value.items() if v is None)
    names = [f"{r}|{c}" for r, c in unknown]
    parts = [c for c in additive if c != TOTAL]
    lines = [([(r, c) for c in parts], (r, TOTAL)) for r in rows] if TOTAL in additive else []
    lines += [([(r, c) for r in rows if r != TOTAL], (TOTAL, c)) for c in additive]
    equations = []
    for entries, total in lines:
        coefficients: dict[str, int] = {}
        constant = 0
        for entry, sign in [*((p, 1) for p in entries), (total, -1)]:
            if value[entry] is None:
                coefficients[f"{entry[0]}|{entry[1]}"] = sign
            else:
                constant -= sign * round(value[entry] * (100 if table["unit"] == "euro" else 1))
        if coefficients:
            equations.append((coefficients, constant))
    return names, equations, dict.fromkeys(names, 1)


def test_regression_published_zeros_reveal_suppressed_cells() -> None:
    # One responsibility transfer in each of 11 regions, none in the other 24: the
    # national total (11) and the published zeros gave every suppressed region away.
    aggregator = Aggregator()
    regions = sorted(Region, key=lambda r: r.value)[:11]
    for n, region in enumerate(regions, start=1):
        aggregator.apply(_event(n, region, kind=MonitorEventType.RESPONSIBILITY_TRANSFER))
    published = json.loads(render_json(build_report(aggregator, PERIOD)))
    steps = next(t for t in published["tables"] if t["name"] == "steps")
    transfers = {r["key"]: r["cells"]["transfer"]["value"] for r in steps["rows"]}
    assert [transfers[r.value] for r in regions] == [None] * 11
    assert sum(v == 0 for v in transfers.values()) == 24
    for table in published["tables"]:
        if table["unit"] == "euro":
            continue  # no money in this case
        names, equations, lower = _reader(table)
        for name in names:
            low, high = interval(names, equations, {name: 1}, lower=lower)
            assert high is None or (low is not None and high - low >= 10), (table["name"], name)


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

    names, equations, lower = _reader(reach)
    bands = [c for c in columns if c != TOTAL]
    low, high = interval(names, equations, {f"{zeeland}|{young}": 1}, lower=lower)
    assert low is not None
    assert low <= 1
    assert high is None or high >= 3 + 10 - 1  # anywhere from 1 to well above the threshold
    # the complement: Zeeland's people in the other age bands
    others = {f"{zeeland}|{c}": 1 for c in bands if c != young and value[zeeland, c] is None}
    known = sum(value[zeeland, c] or 0 for c in bands if c != young)
    low_c, high_c = interval(names, equations, others, constant=known, lower=lower)
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


# --- dominance: a few people making up most of an amount -----------------------------------------


def _money_grid(data: dict[str, list[list[int]]]) -> Grid:
    """Cents per person in each cell (one person per amount, in one cell only)."""
    width = len(next(iter(data.values())))
    names = [f"c{j}" for j in range(width)]

    def top(amounts: list[int]) -> tuple[int, ...]:
        return tuple(sorted(amounts, reverse=True)[:2])

    return Grid.build(
        "money",
        "test",
        list(data),
        names,
        unit=Unit.CENTS,
        cell=lambda r, c: (sum(data[r][names.index(c)]), len(data[r][names.index(c)])),
        row_total=lambda r: (sum(map(sum, data[r])), sum(map(len, data[r]))),
        top=lambda r, c: top(data[r][names.index(c)]),
        row_top=lambda r: top([a for cell in data[r] for a in cell]),
    )


def test_an_amount_two_people_dominate_is_suppressed_however_many_are_behind_it() -> None:
    many = [20_000] * 12
    grid = _money_grid(
        {
            "A": [[900_000, 50_000] + [10_000] * 10, many, many],  # top 2: 95%
            "B": [many, many, many],
            "C": [many, many, many],
        }
    )
    rule = Rule()
    protect(grid, rule)
    assert grid.contributors["A", "c0"] == 12
    assert ("A", "c0") in grid.primary
    assert ("B", "c0") not in grid.primary  # twelve equal amounts
    assert ("A", TOTAL) not in grid.primary  # in the region's total they make up 45%
    assert narrowed(grid, rule) == []
    low, high = bounds(grid, ("A", "c0"))
    assert high is None or high - low >= rule.required(Unit.CENTS, grid.values["A", "c0"])


def test_the_dominance_rule_is_its_parameters() -> None:
    top = (60, 20)
    assert Rule(dominance_top=1, dominance_share=0.5).dominated(100, top)
    assert not Rule(dominance_top=1, dominance_share=0.6).dominated(100, top)
    assert Rule(dominance_top=2, dominance_share=0.75).dominated(100, top)
    assert not Rule(dominance_share=1.0).dominated(100, (100,))  # a share of 1: never
    assert not Rule().sensitive(contributors=3, value=0)  # nothing to hide in a zero
    with pytest.raises(ValueError, match="dominance_top"):
        Rule(dominance_top=3)


_AMOUNTS = st.lists(st.sampled_from([500, 2_000, 10_000, 50_000, 400_000]), max_size=14)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda cols: st.lists(
            st.lists(_AMOUNTS, min_size=cols, max_size=cols), min_size=1, max_size=4
        )
    )
)
def test_no_suppressed_amount_can_be_narrowed_below_its_protection(
    table: list[list[list[int]]],
) -> None:
    rule = Rule()
    grid = protect(_money_grid({f"r{i}": row for i, row in enumerate(table)}), rule)
    assert narrowed(grid, rule) == []
    for key in grid.entries():
        if rule.dominated(grid.values[key], grid.top.get(key, ())):
            assert key in grid.primary, key


def test_the_report_suppresses_a_payment_one_person_dominates() -> None:
    aggregator = Aggregator()
    n = 0
    for region in (Region.ZEELAND, Region.TWENTE, Region.RIJNMOND):
        for person in range(12):
            n += 1
            big = region is Region.ZEELAND and person == 0
            cents = 2_500_000 if big else 20_000
            for times in range(2 if big else 1):  # the big one paid in two parts
                event = _event(n, region, kind=MonitorEventType.INSTRUMENT_USED)
                aggregator.apply(
                    event.model_copy(
                        update={
                            "event_id": f"00000000-0000-4000-8001-{n * 10 + times:012d}",
                            "instrument": Instrument.SCHOOLING,
                            "uses": 1 - times,
                            "paid": Money(amount_cents=cents // 2 if big else cents),
                        }
                    )
                )
    cell = aggregator.cell(Region.ZEELAND, PERIOD)
    cluster = Instrument.SCHOOLING.cluster.value
    assert cell.largest(f"paid.{cluster}") == (2_500_000, 20_000)
    assert Cell.from_dict(cell.to_dict()) == cell
    report = build_report(aggregator, PERIOD)
    payments = report.table("payments")
    assert payments.get(Region.ZEELAND.value, cluster).suppressed
    assert not payments.get(Region.TWENTE.value, cluster).suppressed  # 12 equal payments
    assert payments.get(Region.TWENTE.value, cluster).value == 12 * 200
