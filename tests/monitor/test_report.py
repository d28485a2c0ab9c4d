"""The bi-monthly report: tables, region cut, renderers."""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cache

import pytest

from hub.monitor.aggregate import Aggregator
from hub.monitor.errors import PeriodError
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.monitor.report import build_report, render, render_csv, render_html, render_json
from hub.monitor.suppression import TOTAL, Rule
from schemas.regions import Region
from tests.monitor.synthetic import RouterStandIn, generate

PERIOD = "2021-03/04"
TABLES = [
    "reach",
    "steps",
    "outcomes",
    "instruments",
    "commitments",
    "payments",
    "time_to_work",
    "budget",
]


@cache
def _aggregator() -> Aggregator:
    keys = MonitorPseudonymiser(MonitorKeyring({1: b"\x05" * 32}))
    aggregator = Aggregator()
    aggregator.apply_all(RouterStandIn(keys).run(generate(800, seed=11).records))
    return aggregator


def test_every_table_has_every_region_and_the_national_total() -> None:
    report = build_report(_aggregator(), PERIOD)
    assert [t.name for t in report.tables] == TABLES
    for table in report.tables:
        keys = [row for row, _ in table.rows]
        assert keys[: len(Region)] == sorted(r.value for r in Region)
        assert keys[-1] == TOTAL
        for row, _ in table.rows:
            for col, _ in table.columns:
                cell = table.get(row, col)
                assert (cell.value is None) or not cell.suppressed


def test_published_totals_are_the_sums_the_tables_say() -> None:
    report = build_report(_aggregator(), PERIOD)
    reach = report.table("reach")
    national = reach.get(TOTAL, TOTAL).value
    assert national == sum(
        c.persons["reached"] for (_, p), c in _aggregator().cells().items() if p == PERIOD
    )


def test_a_region_report_is_cut_from_the_national_protection() -> None:
    national = build_report(_aggregator(), PERIOD)
    region = build_report(_aggregator(), PERIOD, region=Region.ZEELAND)
    for whole, part in zip(national.tables, region.tables, strict=True):
        assert [row for row, _ in part.rows] == [Region.ZEELAND.value, TOTAL]
        for row, _ in part.rows:
            for col, _ in part.columns:
                assert part.get(row, col) == whole.get(row, col), (whole.name, row, col)


def test_a_higher_threshold_suppresses_more() -> None:
    def hidden(threshold: int, dominance_share: float = 0.85) -> int:
        rule = Rule(threshold=threshold, dominance_share=dominance_share)
        report = build_report(_aggregator(), PERIOD, rule=rule)
        return sum(c.suppressed for t in report.tables for c in t.cells.values())

    assert hidden(1, dominance_share=1.0) == 0  # a share of 1: no dominance rule
    assert hidden(1) > 0  # amounts a few people dominate
    assert hidden(5) < hidden(10) < hidden(25)


def test_json_and_csv_say_the_same_and_mark_suppressed_figures() -> None:
    report = build_report(_aggregator(), PERIOD)
    document = json.loads(render_json(report))
    assert document["period"] == PERIOD
    assert document["suppression"]["threshold"] == 10
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    by_key = {(r["table"], r["row"], r["column"]): r for r in rows}
    seen_suppressed = 0
    for table in document["tables"]:
        for row in table["rows"]:
            for col, cell in row["cells"].items():
                line = by_key[table["name"], row["key"], col]
                if cell.get("suppressed"):
                    seen_suppressed += 1
                    assert cell["value"] is None
                    assert (line["value"], line["suppressed"]) == ("", "yes")
                else:
                    assert line["suppressed"] == "no"
                    assert line["value"] == ("" if cell["value"] is None else str(cell["value"]))
    assert seen_suppressed > 0


def test_the_html_report_is_self_contained_with_charts_and_marked_cells() -> None:
    page = render_html(build_report(_aggregator(), PERIOD), "en")
    assert page.startswith('<!DOCTYPE html><html lang="en">')
    assert page.count("<svg") >= 5  # regions x2, clusters x2, budget
    assert "Budget use per region" in page
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"?https?:", page)
    assert 'class="sup"' in page
    assert "suppressed" in page


def test_the_html_report_is_dutch_by_default_with_dutch_numbers() -> None:
    report = build_report(_aggregator(), PERIOD)
    page = render_html(report)
    assert page.startswith('<!DOCTYPE html><html lang="nl">')
    assert "Landelijke monitor van de regionale mobiliteitsteams" in page
    assert "Budgetgebruik per regio" in page
    assert "afgeschermd" in page
    assert "Nederland (som van de regio" in page
    assert "Budget use" not in page
    # amounts as Dutch write them: euro sign, no-break space, dots between thousands
    allocated = report.table("budget").get("GROOT_AMSTERDAM", "allocated").value
    assert isinstance(allocated, float)
    assert allocated >= 1000
    whole = f"{round(allocated):,}".replace(",", ".")
    assert f"<td>€\u00a0{whole}</td>" in page
    # the JSON and CSV keep their English labels: they are for programs
    assert "Netherlands (sum of the regions)" in render(report, "json", "nl")
    assert render(report, "html", "en") == render_html(report, "en")


def test_bad_period_and_format() -> None:
    with pytest.raises(PeriodError):
        build_report(_aggregator(), "2021-02/03")
    with pytest.raises(PeriodError):
        build_report(_aggregator(), "March 2021")
    with pytest.raises(ValueError, match="format"):
        render(build_report(_aggregator(), PERIOD), "pdf")


def test_an_empty_period_is_a_report_of_zeros() -> None:
    report = build_report(Aggregator(), "2030-01/02")
    assert report.table("reach").get(TOTAL, TOTAL).value == 0
    assert "0" in render_html(report)
