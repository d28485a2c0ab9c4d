"""The budget ledger per region, and the allocations file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.monitor.aggregate import Cell
from hub.monitor.errors import BudgetFileError
from hub.monitor.ledger import Budgets, BudgetStatus, ledger, load_budgets, periods_between
from schemas.regions import Region

BUDGETS = Budgets(
    allocations={Region.TWENTE: 1_000_000, Region.ZEELAND: 1_000_000, Region.DRENTHE: 1_000_000},
    first_period="2021-01/02",
    last_period="2021-11/12",
)


def _spend(committed: int, paid: int, released: int = 0) -> Cell:
    return Cell(
        money={
            "committed.TAILORED_BUDGET": committed,
            "paid.TAILORED_BUDGET": paid,
            "released.TAILORED_BUDGET": released,
        },
        persons={"ledger_new": 12},
    )


def test_the_shipped_allocations_cover_every_region_and_say_they_are_illustrative() -> None:
    budgets = load_budgets()
    assert set(budgets.allocations) == set(Region)
    assert all(cents > 0 for cents in budgets.allocations.values())
    assert "ILLUSTRATIVE" in budgets.source
    assert budgets.first_period <= budgets.last_period


def test_malformed_allocation_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "budgets.json"
    for content in (
        "{",
        json.dumps({"allocations": {"NOWHERE": 1}}),
        json.dumps(
            {
                "allocations": {},
                "programme": {"first_period": "2021-02/03", "last_period": "2021-11/12"},
            }
        ),
    ):
        bad.write_text(content, encoding="utf-8")
        with pytest.raises(BudgetFileError):
            load_budgets(bad)
    with pytest.raises(BudgetFileError):
        load_budgets(tmp_path / "missing.json")


def test_periods_between() -> None:
    assert periods_between("2021-01/02", "2021-01/02") == 1
    assert periods_between("2021-01/02", "2022-11/12") == 12


def test_ledger_lines_are_cumulative_and_flag_a_region_about_to_overrun() -> None:
    cells = {
        (Region.TWENTE, "2021-01/02"): _spend(500_000, 100_000),
        (Region.TWENTE, "2021-03/04"): _spend(450_000, 300_000, released=50_000),
        (Region.TWENTE, "2021-05/06"): _spend(999_999, 0),  # after the period: not counted
        (Region.ZEELAND, "2021-01/02"): _spend(100_000, 0),
        (Region.DRENTHE, "2021-03/04"): _spend(1_200_000, 0),
    }
    lines = {line.region: line for line in ledger(cells, BUDGETS, "2021-03/04")}
    assert len(lines) == len(Region)
    twente = lines[Region.TWENTE]
    assert (twente.paid, twente.released) == (400_000, 50_000)
    assert twente.committed == 950_000 - 50_000 - 400_000  # open commitments
    assert twente.used == 900_000
    assert twente.share() == 0.9
    assert twente.status(BUDGETS, "2021-03/04") is BudgetStatus.AT_RISK  # 90% reached
    zeeland = lines[Region.ZEELAND]
    assert zeeland.status(BUDGETS, "2021-03/04") is BudgetStatus.OK  # 10% in 2 of 6 periods
    assert zeeland.status(BUDGETS, "2021-01/02") is BudgetStatus.OK
    assert lines[Region.DRENTHE].status(BUDGETS, "2021-03/04") is BudgetStatus.OVERRUN
    assert lines[Region.GRONINGEN].allocated == 0


def test_the_projection_flags_a_region_spending_too_fast() -> None:
    cells = {(Region.ZEELAND, "2021-01/02"): _spend(200_000, 0)}  # 20% in 1 of 6 periods
    (line,) = [x for x in ledger(cells, BUDGETS, "2021-01/02") if x.region is Region.ZEELAND]
    assert line.projected_share(1, 6) == pytest.approx(1.2)
    assert line.status(BUDGETS, "2021-01/02") is BudgetStatus.AT_RISK
