"""The bi-monthly report to the national steering group: tables, suppression, renderers.

:func:`build_report` turns the aggregate of one period into published tables - every
region and the national total - after disclosure control
(:mod:`hub.monitor.suppression`), always over all 35 regions: a report for one region
(``region=``) is cut from the protected national tables, so regional and national
reports together reveal nothing either leaves out.

The tables (each figure is published in exactly one of them):

* ``reach``: people reached (anyone with a step in the period) by age band;
* ``steps``: intakes, selected people, arrangements started / changed / finished,
  referrals, responsibility transfers, people reached in the target groups;
* ``outcomes``: outcomes by kind (work = placed in work or self-employed);
* ``instruments``: instrument uses by menu-card cluster;
* ``commitments`` and ``payments``: money from the pooled budget by cluster (euro);
* ``time_to_work``: placements with a known intake and the median days from intake
  to work;
* ``budget``: the ledger per region through the period (allocated, open commitments,
  paid, share used, projection, status; :mod:`hub.monitor.ledger`).

Renderers: :func:`render_json`, :func:`render_csv`, :func:`render_html` (one file, inline
SVG charts, no scripts, no external resources; in Dutch unless English is asked for, the
texts in the gettext catalogue of :mod:`hub.i18n`; CSV and JSON keep English labels).
Suppressed figures are published as
``null`` / empty with ``suppressed`` set, and shown as a mark in HTML.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.i18n import N_, NP_, _, current, language, pgettext
from hub.i18n import format_money as _money
from hub.i18n import format_number as _number
from hub.i18n import format_percent_of as _percent
from hub.monitor.aggregate import OUTCOME_LABELS, UNKNOWN, Aggregator, Cell, CellKey, median_of
from hub.monitor.ledger import Budgets, BudgetStatus, ledger, load_budgets, periods_between
from hub.monitor.periods import Period, parse_period
from hub.monitor.suppression import TOTAL, Grid, Rule, Unit, protect
from hub.spreadsheet import csv_line
from schemas.menu_card import InstrumentCluster
from schemas.models.enums import AgeBand
from schemas.regions import Region

__all__ = [
    "FORMATS",
    "NATIONAL",
    "Published",
    "Report",
    "Table",
    "build_report",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_selector",
]

NATIONAL = N_("Netherlands (sum of the regions)")
SUPPRESSED_MARK = "•"

_AGE_LABELS = {
    AgeBand.UNDER_27.value: N_("under 27"),
    AgeBand.FROM_27_TO_54.value: N_("27 to 54"),
    AgeBand.FROM_55.value: N_("55 and over"),
    UNKNOWN: N_("age unknown"),
}
_STEPS: list[tuple[str, str, bool]] = [
    # measure, label, counts people (else steps)
    ("intake", N_("intakes (people)"), True),
    ("selected", N_("selected (people)"), True),
    ("arrangement_started", N_("arrangements started"), False),
    ("arrangement_changed", N_("arrangements changed"), False),
    ("arrangement_finished", N_("arrangements finished"), False),
    ("referral", N_("referrals"), False),
    ("transfer", N_("responsibility transfers"), False),
    ("reached.banenafspraak", N_("reached, banenafspraak target group (people)"), True),
    ("reached.shrinking_sector", N_("reached, from a shrinking sector (people)"), True),
]
_OUTCOME_NAMES = {
    "WORK": N_("work (placed or self-employed)"),
    "SCHOOLING_FINISHED": N_("schooling finished"),
    "NO_PLACEMENT": N_("no placement"),
    "DROPPED_OUT": N_("dropped out"),
    "OTHER": N_("other"),
}
_CLUSTER_NAMES = {
    InstrumentCluster.JOB_SEARCH_SKILLS.value: N_("job-search and application skills"),
    InstrumentCluster.CAREER_SUPPORT.value: N_("career support"),
    InstrumentCluster.LABOUR_MARKET_POSITION.value: N_("labour-market position (schooling)"),
    InstrumentCluster.DEMAND_SUPPLY_MATCHING.value: N_("demand and supply together"),
    InstrumentCluster.SUPPORTING_SERVICES.value: N_("supporting services"),
    InstrumentCluster.TAILORED_BUDGET.value: N_("tailored budget"),
    InstrumentCluster.BANENAFSPRAAK.value: N_("banenafspraak menu"),
    UNKNOWN: N_("instrument unknown"),
}
FORMATS = ("csv", "json", "html")
_AT_RISK_TOTAL = N_("{at_risk} of {regions} regions at risk or overrun")
_BUDGET_STATUS = {
    BudgetStatus.OK.value: NP_("budget status", "OK"),
    BudgetStatus.AT_RISK.value: NP_("budget status", "AT_RISK"),
    BudgetStatus.OVERRUN.value: NP_("budget status", "OVERRUN"),
}


@dataclass(frozen=True)
class Published:
    """One published figure: its value, or None with ``suppressed`` set."""

    value: float | int | str | None
    suppressed: bool = False


@dataclass
class Table:
    """A published table: rows (regions, then the national total) x columns."""

    name: str
    title: str
    unit: str
    columns: list[tuple[str, str]]
    rows: list[tuple[str, str]]
    cells: dict[tuple[str, str], Published]
    note: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    """The English source texts of a ``title`` or ``note`` with fields (``{period}``),
    translated and filled in with ``params`` when a page is rendered."""
    params: dict[str, Any] = field(default_factory=dict)

    def get(self, row: str, col: str) -> Published:
        return self.cells[row, col]


@dataclass
class Report:
    """The report of one period (optionally cut to one region)."""

    period: Period
    region: Region | None
    threshold: int
    tables: list[Table]
    budgets_source: str
    events: int = 0
    notes: list[str] = field(default_factory=list)
    rule: Rule = field(default_factory=Rule)

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


# --- building ---------------------------------------------------------------------------------


def _euro(cents: int) -> float:
    return round(cents / 100, 2)


def _rows(region: Region | None) -> list[tuple[str, str]]:
    regions = [region] if region is not None else sorted(Region, key=lambda r: r.value)
    return [(r.value, r.cbs_name) for r in regions]


def _table(
    grid: Grid,
    region: Region | None,
    col_labels: Mapping[str, str],
    *,
    total_label: str = N_("total"),
    note: str = "",
    convert: Callable[[int], float | int] = int,
) -> Table:
    """The published form of a protected grid, cut to ``region`` when given."""
    rows = _rows(region) + ([(TOTAL, NATIONAL)] if grid.col_totals else [])
    columns = [(c, col_labels.get(c, c)) for c in grid.cols]
    if grid.row_totals:
        columns.append((TOTAL, total_label))
    cells: dict[tuple[str, str], Published] = {}
    for row, _label_of_row in rows:
        for col, _col_label in columns:
            value = grid.published(row, col)
            cells[row, col] = (
                Published(None, suppressed=True) if value is None else Published(convert(value))
            )
    unit = {Unit.CENTS: "euro", Unit.PERSONS: "people", Unit.EVENTS: "steps"}[grid.unit]
    return Table(grid.name, grid.title, unit, columns, rows, cells, note)


def _cells_of(source: Aggregator | Mapping[CellKey, Cell]) -> Mapping[CellKey, Cell]:
    return source.cells() if isinstance(source, Aggregator) else source


def build_report(
    source: Aggregator | Mapping[CellKey, Cell],
    period: Period,
    *,
    budgets: Budgets | None = None,
    rule: Rule | None = None,
    region: Region | None = None,
) -> Report:
    """The protected report of ``period`` from an aggregator (or its cells)."""
    period = parse_period(period)
    rule = rule or Rule()
    budgets = budgets or load_budgets()
    all_cells = _cells_of(source)
    rows = [r.value for r in sorted(Region, key=lambda r: r.value)]
    cell = {r: all_cells.get((Region(r), period)) or Cell() for r in rows}
    tables: list[Table] = []

    def people(measure: str) -> Callable[[str, str], tuple[int, int]]:
        return lambda r, c: (cell[r].persons[f"{measure}.{c}"],) * 2

    reach = Grid.build(
        "reach",
        N_("People reached, by age band"),
        rows,
        list(_AGE_LABELS),
        unit=Unit.PERSONS,
        cell=people("reached.age"),
        row_total=lambda r: (cell[r].persons["reached"],) * 2,
    )
    tables.append(_table(protect(reach, rule), region, _AGE_LABELS, total_label=N_("reached")))

    def step(r: str, c: str) -> tuple[int, int]:
        counts_people = next(p for m, _, p in _STEPS if m == c)
        persons = cell[r].persons[c]
        return (persons if counts_people else cell[r].events[c]), persons

    steps = Grid.build(
        "steps",
        N_("Intake, selection, arrangements, referrals and transfers"),
        rows,
        [m for m, _, _ in _STEPS],
        unit=Unit.EVENTS,
        cell=step,
    )
    tables.append(
        _table(
            protect(steps, rule),
            region,
            {m: label for m, label, _ in _STEPS},
            note=N_("Columns are separate counts; they do not add up."),
        )
    )

    outcomes = Grid.build(
        "outcomes",
        N_("Outcomes (placements and other outcomes)"),
        rows,
        list(OUTCOME_LABELS),
        unit=Unit.EVENTS,
        cell=lambda r, c: (cell[r].events[f"outcome.{c}"], cell[r].persons[f"outcome.{c}"]),
        row_total=lambda r: (cell[r].events["outcome"], cell[r].persons["outcome"]),
    )
    tables.append(_table(protect(outcomes, rule), region, _OUTCOME_NAMES))

    clusters = [c.value for c in InstrumentCluster]
    if any(c.events[f"instrument.{UNKNOWN}"] for c in cell.values()):
        clusters.append(UNKNOWN)
    instruments = Grid.build(
        "instruments",
        N_("Instrument uses by menu-card cluster"),
        rows,
        clusters,
        unit=Unit.EVENTS,
        cell=lambda r, c: (cell[r].events[f"instrument.{c}"], cell[r].persons[f"instrument.{c}"]),
        row_total=lambda r: (cell[r].events["instrument"], cell[r].persons["instrument"]),
    )
    tables.append(_table(protect(instruments, rule), region, _CLUSTER_NAMES))

    for name, title in (
        ("committed", N_("New commitments from the pooled budget, by cluster (euro)")),
        ("paid", N_("Payments from the pooled budget, by cluster (euro)")),
    ):
        money = Grid.build(
            "commitments" if name == "committed" else "payments",
            title,
            rows,
            clusters,
            unit=Unit.CENTS,
            cell=_money_cell(cell, name),
            row_total=_money_total(cell, name),
            top=_money_top(cell, name),
            row_top=_money_row_top(cell, name),
        )
        tables.append(_table(protect(money, rule), region, _CLUSTER_NAMES, convert=_euro))

    tables.append(_time_to_work(cell, rows, rule, region))
    tables.append(_budget(all_cells, budgets, period, rows=rows, rule=rule, region=region))
    events = sum(c.events.total() for c in cell.values())
    return Report(
        period=period,
        region=region,
        threshold=rule.threshold,
        tables=tables,
        budgets_source=budgets.source,
        events=events,
        rule=rule,
    )


def _money_cell(cell: Mapping[str, Cell], name: str) -> Callable[[str, str], tuple[int, int]]:
    return lambda r, c: (cell[r].money[f"{name}.{c}"], cell[r].persons[f"{name}.{c}"])


def _money_total(cell: Mapping[str, Cell], name: str) -> Callable[[str], tuple[int, int]]:
    def total(r: str) -> tuple[int, int]:
        money = sum(v for k, v in cell[r].money.items() if k.startswith(f"{name}."))
        return money, cell[r].persons[name]

    return total


def _money_top(cell: Mapping[str, Cell], name: str) -> Callable[[str, str], tuple[int, ...]]:
    return lambda r, c: cell[r].largest(f"{name}.{c}")


def _money_row_top(cell: Mapping[str, Cell], name: str) -> Callable[[str], tuple[int, ...]]:
    return lambda r: cell[r].largest(name)


def _time_to_work(
    cell: Mapping[str, Cell], rows: list[str], rule: Rule, region: Region | None
) -> Table:
    counts = Grid.build(
        "time_to_work",
        N_("Days from intake to work"),
        rows,
        ["n"],
        unit=Unit.PERSONS,
        cell=lambda r, c: (sum(cell[r].days_to_work.values()),) * 2,
    )
    protect(counts, rule)
    national: dict[int, int] = {}
    for r in rows:
        for days, n in cell[r].days_to_work.items():
            national[days] = national.get(days, 0) + n
    table = _table(
        counts,
        region,
        {"n": N_("placements with a known intake")},
        note=N_("Median over people placed in the period whose first intake is known."),
    )
    table.columns.append(("median_days", N_("median days from intake to work")))
    for row, _name in table.rows:
        histogram = national if row == TOTAL else cell[row].days_to_work
        if counts.is_suppressed(row, "n"):
            table.cells[row, "median_days"] = Published(None, suppressed=True)
        else:
            table.cells[row, "median_days"] = Published(median_of(histogram))
    table.unit = "people / days"
    return table


def _budget(
    cells: Mapping[CellKey, Cell],
    budgets: Budgets,
    period: Period,
    *,
    rows: list[str],
    rule: Rule,
    region: Region | None,
) -> Table:
    lines = {line.region.value: line for line in ledger(cells, budgets, period)}
    title = N_("Budget ledger per region, cumulative through {period}")
    note = N_(
        "Allocations: {source} Status AT_RISK: committed + paid reaches {share} of the "
        "allocation, or the pace so far overruns it by the end of the programme ({last})."
    )
    money = Grid.build(
        "budget",
        title.format(period=period),
        rows,
        ["committed", "paid"],
        unit=Unit.CENTS,
        cell=lambda r, c: (getattr(lines[r], c), lines[r].contributors),
    )
    protect(money, rule)
    table = _table(
        money,
        region,
        {"committed": N_("open commitments"), "paid": N_("paid")},
        convert=_euro,
        note=note.format(
            source=budgets.source,
            share=f"{budgets.alert_share:.0%}",
            last=budgets.last_period,
        ),
    )
    table.texts = {"title": title, "note": note}
    table.params = {
        "period": period,
        "source": budgets.source,
        "share": budgets.alert_share,
        "last": budgets.last_period,
    }
    table.columns[:0] = [("allocated", N_("allocated"))]
    table.columns += [
        ("used_share", N_("used (committed + paid) of allocated")),
        ("projected_share", N_("projected use at the end of the programme")),
        ("status", N_("status")),
    ]
    elapsed = periods_between(budgets.first_period, period)
    total = periods_between(budgets.first_period, budgets.last_period)
    for row, _name in table.rows:
        if row == TOTAL:
            allocated = sum(line.allocated for line in lines.values())
            used = sum(line.used for line in lines.values())
            statuses = [line.status(budgets, period) for line in lines.values()]
            table.params["at_risk"] = sum(s is not BudgetStatus.OK for s in statuses)
            table.params["regions"] = len(statuses)
            status = _AT_RISK_TOTAL.format(**table.params)
        else:
            line = lines[row]
            allocated, used = line.allocated, line.used
            status = line.status(budgets, period).value
        table.cells[row, "allocated"] = Published(_euro(allocated))
        hidden = money.is_suppressed(row, "committed") or money.is_suppressed(row, "paid")
        share = used / allocated if allocated else None
        projected = (
            used / elapsed * max(total, elapsed) / allocated if allocated and elapsed > 0 else None
        )
        for col, value in (("used_share", share), ("projected_share", projected)):
            table.cells[row, col] = (
                Published(None, suppressed=True)
                if hidden
                else Published(None if value is None else round(value, 4))
            )
        table.cells[row, "status"] = Published(status)
    table.unit = "euro"
    return table


# --- rendering --------------------------------------------------------------------------------


def render(report: Report, fmt: str, lang: str | None = None) -> str:
    """The report as ``csv``, ``json`` or ``html``. The HTML page is in ``lang`` (Dutch by
    default); CSV and JSON keep their English labels and codes, for programs."""
    if fmt == "html":
        return render_html(report, lang)
    renderers = {"csv": render_csv, "json": render_json}
    try:
        return renderers[fmt](report)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}") from None


def _json_value(cell: Published) -> dict[str, Any]:
    if cell.suppressed:
        return {"value": None, "suppressed": True}
    return {"value": cell.value}


def render_json(report: Report) -> str:
    """The report as one JSON document."""
    document = {
        "report": "National monitor of the regional mobility teams",
        "period": report.period,
        "region": report.region.value if report.region else None,
        "suppression": {
            "threshold": report.threshold,
            "money_protection": report.rule.money_protection,
            "dominance": {"top": report.rule.dominance_top, "share": report.rule.dominance_share},
            "rule": "non-zero figures with 1 to threshold-1 people behind them are suppressed, "
            "and amounts of which the 'top' largest contributions of single people make up "
            "more than 'share'; further figures are suppressed until no suppressed figure can "
            "be narrowed from the published figures, their totals and the knowledge that a "
            "suppressed figure is not zero to a range narrower than the threshold (counts) or "
            "money_protection of the amount (euro)",
        },
        "budget_allocations_source": report.budgets_source,
        "tables": [
            {
                "name": t.name,
                "title": t.title,
                "unit": t.unit,
                "note": t.note,
                "columns": [{"key": k, "label": label} for k, label in t.columns],
                "rows": [
                    {
                        "key": row,
                        "label": label,
                        "cells": {col: _json_value(t.cells[row, col]) for col, _ in t.columns},
                    }
                    for row, label in t.rows
                ],
            }
            for t in report.tables
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_csv(report: Report) -> str:
    """The report as CSV, one published figure per line; text cells that a spreadsheet
    would run as a formula are neutralised (:func:`hub.spreadsheet.csv_line`)."""
    lines = [
        csv_line(
            [
                "period",
                "table",
                "row",
                "row_label",
                "column",
                "column_label",
                "unit",
                "value",
                "suppressed",
            ]
        )
    ]
    for t in report.tables:
        for row, row_label in t.rows:
            for col, col_label in t.columns:
                cell = t.cells[row, col]
                value = "" if cell.value is None else cell.value
                lines.append(
                    csv_line(
                        [
                            report.period,
                            t.name,
                            row,
                            row_label,
                            col,
                            col_label,
                            t.unit,
                            value,
                            "yes" if cell.suppressed else "no",
                        ]
                    )
                )
    return "".join(lines)


# --- HTML with inline SVG ---------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem;
color:#1b1b1b;max-width:1100px}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;
border-bottom:2px solid #154273;padding-bottom:.2rem;color:#154273}
.lead{color:#444}.legend{background:#f3f6f9;border-left:4px solid #154273;padding:.6rem 1rem}
.kpis{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.kpi{border:1px solid #ccd6e0;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.kpi b{display:block;font-size:1.5rem;color:#154273}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0 1.4rem}
th,td{border:1px solid #d5dde5;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#eef2f6}
tr.total td{font-weight:bold;background:#f7f9fb}
td.sup{color:#8a5a00;background:#fff7e6;text-align:center}
.note{font-size:.8rem;color:#555}svg text{font-family:inherit}
"""


def _fmt(value: float | int | str | None, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if unit == "euro":
        return _money(value, cents=False)
    return _number(value)


def _suppressed() -> str:
    return _("{mark} suppressed").format(mark=SUPPRESSED_MARK)


def _status_label(status: str) -> str:
    marked = _BUDGET_STATUS.get(status)
    return pgettext(*marked) if marked else status


def _title(table: Table) -> str:
    template = table.texts.get("title")
    return _(template).format(**table.params) if template else _(table.title)


def _note(table: Table) -> str:
    template = table.texts.get("note")
    if template:
        params = {**table.params, "share": _percent(table.params["share"])}
        return _(template).format(**params)
    return _(table.note) if table.note else ""


def _row_label(row: str, label: str) -> str:
    return _(label) if row == TOTAL else label  # region names are CBS's (Dutch) names


def _hbar(
    title: str,
    items: list[tuple[str, float | None]],
    fmt: Callable[[float], str],
    colour: str = "#2a6ebb",
) -> str:
    """A horizontal bar chart; items with value None are drawn as 'suppressed'."""
    label_w, bar_w, row_h, top = 230, 520, 20, 30
    height = top + row_h * len(items) + 10
    peak = max([v for _, v in items if v is not None] + [1])
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{label_w + bar_w + 120}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="18" font-size="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{html.escape(label)}</text>"
        )
        if value is None:
            parts.append(
                f'<text x="{label_w + 4}" y="{y + 14}" font-size="12" fill="#8a5a00" '
                f'font-style="italic">{html.escape(_suppressed())}</text>'
            )
            continue
        width = 0 if peak <= 0 else max(0.0, value) / peak * bar_w
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 6}" '
            f'fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{label_w + width + 5:.1f}" y="{y + 14}" font-size="12">'
            f"{html.escape(fmt(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _budget_chart(table: Table) -> str:
    """Per region: paid and open commitments against the allocation, 90% line, status."""
    rows = [(r, label) for r, label in table.rows if r != TOTAL]
    label_w, bar_w, row_h, top = 230, 480, 22, 46
    height = top + row_h * len(rows) + 10
    title = _("Budget use per region")
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{label_w + bar_w + 250}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        '<text x="0" y="18" font-size="14" font-weight="bold">'
        f"{html.escape(_('Budget use per region (share of the allocation)'))}</text>",
        f'<rect x="{label_w}" y="26" width="12" height="10" fill="#154273"/>'
        f'<text x="{label_w + 16}" y="35" font-size="11">{html.escape(_("paid"))}</text>'
        f'<rect x="{label_w + 60}" y="26" width="12" height="10" fill="#8fb3de"/>'
        f'<text x="{label_w + 76}" y="35" font-size="11">'
        f"{html.escape(_('open commitments'))}</text>"
        f'<line x1="{label_w + 190}" y1="31" x2="{label_w + 210}" y2="31" stroke="#c00" '
        f'stroke-dasharray="3,2"/><text x="{label_w + 214}" y="35" font-size="11">'
        f"{html.escape(_('alert level'))}</text>",
    ]
    alert_x = label_w + bar_w * 0.9
    for i, (row, label) in enumerate(rows):
        y = top + i * row_h
        status = str(table.get(row, "status").value)
        colour = {"OK": "#1b1b1b", "AT_RISK": "#c05800", "OVERRUN": "#c00"}.get(status, "#1b1b1b")
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end" '
            f'fill="{colour}">{html.escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 6}" '
            'fill="#f3f6f9" stroke="#b8c4d0"/>'
        )
        allocated = table.get(row, "allocated").value
        paid, committed = table.get(row, "paid"), table.get(row, "committed")
        if paid.suppressed or committed.suppressed or not allocated:
            hidden = _("{mark} figures suppressed").format(mark=SUPPRESSED_MARK)
            parts.append(
                f'<text x="{label_w + 6}" y="{y + 15}" font-size="11" fill="#8a5a00" '
                f'font-style="italic">{html.escape(hidden)}</text>'
            )
        else:
            assert isinstance(allocated, int | float)
            paid_w = min(bar_w, float(paid.value or 0) / allocated * bar_w)
            open_w = min(bar_w - paid_w, float(committed.value or 0) / allocated * bar_w)
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{paid_w:.1f}" height="{row_h - 6}" '
                'fill="#154273"/>'
                f'<rect x="{label_w + paid_w:.1f}" y="{y + 3}" width="{open_w:.1f}" '
                f'height="{row_h - 6}" fill="#8fb3de"/>'
            )
            share = table.get(row, "used_share").value
            if isinstance(share, float | int):
                parts.append(
                    f'<text x="{label_w + bar_w + 6}" y="{y + 15}" font-size="12" '
                    f'fill="{colour}">{html.escape(_percent(share))}</text>'
                )
        if status != "OK":
            projected = table.get(row, "projected_share").value
            text = _status_label(status)
            if isinstance(projected, float | int):
                text = _("{status} (pace: {share})").format(status=text, share=_percent(projected))
            parts.append(
                f'<text x="{label_w + bar_w + 46}" y="{y + 15}" font-size="12" '
                f'font-weight="bold" fill="{colour}">{html.escape(text)}</text>'
            )
    parts.append(
        f'<line x1="{alert_x:.1f}" y1="{top}" x2="{alert_x:.1f}" y2="{height - 8}" '
        'stroke="#c00" stroke-dasharray="3,2"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _cell_text(table: Table, row: str, col: str, cell: Published) -> str:
    if col in {"used_share", "projected_share"} and isinstance(cell.value, float):
        return _percent(cell.value)
    if col == "status" and isinstance(cell.value, str):
        if row == TOTAL and "at_risk" in table.params:
            return _(_AT_RISK_TOTAL).format(**table.params)
        return _status_label(cell.value)
    unit = (
        "euro"
        if col in {"allocated", "committed", "paid"}
        or (table.unit == "euro" and col not in {"used_share", "projected_share", "status"})
        else ""
    )
    return _fmt(cell.value, unit)


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(_(label))}</th>" for _key, label in table.columns)
    hidden = html.escape(_("suppressed"))
    body = []
    for row, label in table.rows:
        cells = []
        for col, _label in table.columns:
            cell = table.cells[row, col]
            if cell.suppressed:
                cells.append(f'<td class="sup" title="{hidden}">{SUPPRESSED_MARK}</td>')
            else:
                text = _cell_text(table, row, col, cell)
                cells.append(f"<td>{html.escape(text)}</td>")
        css = ' class="total"' if row == TOTAL else ""
        name = html.escape(_row_label(row, label))
        body.append(f"<tr{css}><td>{name}</td>{''.join(cells)}</tr>")
    note = _note(table)
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return (
        f"<h3>{html.escape(_title(table))}</h3><table><thead><tr>"
        f"<th>{html.escape(_('region'))}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{note_html}"
    )


def _series(table: Table, col: str) -> list[tuple[str, float | None]]:
    out: list[tuple[str, float | None]] = []
    for row, label in table.rows:
        if row == TOTAL:
            continue
        cell = table.get(row, col)
        value = cell.value
        out.append(
            (label, None if cell.suppressed or not isinstance(value, int | float) else value)
        )
    return out


def _kpi(label: str, cell: Published, unit: str) -> str:
    text = _suppressed() if cell.suppressed else _fmt(cell.value, unit)
    return f'<div class="kpi"><b>{html.escape(text)}</b>{html.escape(label)}</div>'


def render_html(report: Report, lang: str | None = None) -> str:
    """One self-contained HTML page: key figures, charts (inline SVG), tables; in ``lang``
    (None: the language of the request being served, Dutch by default)."""
    with language(lang or current()) as chosen:
        return _render_html(report, chosen)


def _render_html(report: Report, chosen: str) -> str:
    reach, steps = report.table("reach"), report.table("steps")
    outcomes, instruments = report.table("outcomes"), report.table("instruments")
    commitments, payments = report.table("commitments"), report.table("payments")
    budget, work = report.table("budget"), report.table("time_to_work")
    scope = report.region.cbs_name if report.region else _("all labour-market regions")
    count = _fmt_count
    kpis = "".join(
        [
            _kpi(_("people reached"), reach.get(TOTAL, TOTAL), ""),
            _kpi(_("selected"), steps.get(TOTAL, "selected"), ""),
            _kpi(_("arrangements started"), steps.get(TOTAL, "arrangement_started"), ""),
            _kpi(_("instrument uses"), instruments.get(TOTAL, TOTAL), ""),
            _kpi(_("placed in work"), outcomes.get(TOTAL, "WORK"), ""),
            _kpi(_("committed"), commitments.get(TOTAL, TOTAL), "euro"),
            _kpi(_("paid"), payments.get(TOTAL, TOTAL), "euro"),
            _kpi(_("median days to work"), work.get(TOTAL, "median_days"), ""),
        ]
    )
    national = _("national figures: sum over all 35 regions")
    clusters = [
        (
            _(label),
            None if instruments.get(TOTAL, c).suppressed else _num(instruments.get(TOTAL, c)),
        )
        for c, label in instruments.columns
        if c != TOTAL
    ]
    cluster_money = [
        (
            _(label),
            None if commitments.get(TOTAL, c).suppressed else _num(commitments.get(TOTAL, c)),
        )
        for c, label in commitments.columns
        if c != TOTAL
    ]
    charts = [
        f"<h2>{html.escape(_('Per region'))}</h2>",
        _hbar(_("People reached"), _series(reach, TOTAL), count),
        _hbar(_("Placed in work"), _series(outcomes, "WORK"), count, "#2f8a4c"),
        f"<h2>{html.escape(_('Per instrument cluster'))}</h2>",
        f'<p class="note">{html.escape(national)}</p>',
        _hbar(_("Instrument uses"), clusters, count, "#6b4fa3"),
        _hbar(_("New commitments (euro)"), cluster_money, _fmt_euro, "#6b4fa3"),
        f"<h2>{html.escape(_('Budget use'))}</h2>",
        _budget_chart(budget),
    ]
    tables = "".join(_html_table(t) for t in report.tables)
    period = f"<b>{html.escape(report.period)}</b>"
    lead = html.escape(
        _(
            "Period {period} - {scope}. For the national steering group: reach, use of the "
            "instruments against the funds, and outcomes."
        )
    ).format(period=period, scope=html.escape(scope))
    legend = html.escape(
        _(
            "{mark} = suppressed: fewer than {threshold} people are behind the figure, or a "
            "few people make up most of the amount, or it is hidden so that such a figure "
            "cannot be worked out from the totals. Totals include the suppressed figures."
        )
    ).format(mark=f"<b>{SUPPRESSED_MARK}</b>", threshold=report.threshold)
    title = _("National monitor {period}").format(period=report.period)
    return (
        f'<!DOCTYPE html><html lang="{chosen}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(_('National monitor of the regional mobility teams'))}</h1>"
        f'<p class="lead">{lead}</p>'
        f'<p class="legend">{legend}</p>'
        f'<div class="kpis">{kpis}</div>'
        + "".join(charts)
        + f"<h2>{html.escape(_('Tables'))}</h2>"
        + tables
        + "</body></html>\n"
    )


def render_selector(
    page: str, periods: list[str], period: str, region: Region | None = None
) -> str:
    """The dashboard: the HTML report with a form to pick another period or region (GET,
    no script), in the language the page was rendered in (read from ``page``)."""
    lang = "en" if page.startswith('<!DOCTYPE html><html lang="en"') else "nl"
    with language(lang):
        choices = sorted({*periods, period}, reverse=True)
        period_options = "".join(
            f'<option value="{html.escape(p)}"{" selected" if p == period else ""}>'
            f"{html.escape(p)}</option>"
            for p in choices
        )
        region_options = f'<option value="">{html.escape(_("all regions"))}</option>' + "".join(
            f'<option value="{r.value}"{" selected" if r is region else ""}>'
            f"{html.escape(r.cbs_name)}</option>"
            for r in sorted(Region, key=lambda r: r.cbs_name)
        )
        form = (
            '<form class="selector" method="get" action="/monitor/report" '
            'style="margin:.8rem 0 1rem;display:flex;gap:1rem;align-items:end">'
            f"<label>{html.escape(_('Period'))}<br>"
            f'<select name="period">{period_options}</select></label>'
            f"<label>{html.escape(_('Region'))}<br>"
            f'<select name="region">{region_options}</select></label>'
            '<input type="hidden" name="format" value="html">'
            f'<input type="hidden" name="lang" value="{lang}">'
            f'<button type="submit">{html.escape(_("Show"))}</button></form>'
        )
        other = "en" if lang == "nl" else "nl"
        query = f"?period={period}&format=html&lang={other}" + (
            f"&region={region.value}" if region else ""
        )
        switch = (
            f'<p class="lang"><a href="/monitor/report{html.escape(query)}" '
            f'hreflang="{other}" lang="{other}">'
            f"{'English' if other == 'en' else 'Nederlands'}</a></p>"
        )
    anchor = "</h1>" if "</h1>" in page else "<body>"
    return page.replace(anchor, anchor + switch + form, 1)


def _num(cell: Published) -> float | None:
    return float(cell.value) if isinstance(cell.value, int | float) else None


def _fmt_count(value: float) -> str:
    return _fmt(value, "")


def _fmt_euro(value: float) -> str:
    return _fmt(value, "euro")
