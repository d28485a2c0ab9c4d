"""The budget ledger per region: allocated, committed, paid - and who is about to overrun.

UWV, as cashier (kassiersfunctie), keeps the pooled budget of every labour-market region.
The monitor follows it from the budget movements in the monitor events (see
:mod:`hub.monitor.derive`): a service from the pooled budget *commits* its charge when
it enters an arrangement in force, changes or releases that commitment when its cost
changes or it is cancelled, and is *paid* when it is delivered.

Per region, cumulative from the start of the programme through a period:

* ``allocated``: from the allocations file (:func:`load_budgets`; the shipped
  ``budgets.json`` holds **illustrative** amounts - docs/domain.md gives none - to be replaced
  by UWV's figures; any file can be given with ``--budgets``);
* ``committed``: open commitments (committed, less released, less paid);
* ``paid``: payments;
* ``used`` = committed + paid, as a share of the allocation;
* ``projected``: the share used by the end of the programme at the pace so far (used /
  periods elapsed x periods in the programme).

A region is flagged **about to overrun** when ``used`` reaches the alert share of its
allocation (default 90%) or the projection exceeds the allocation, and **overrun** when
``used`` exceeds the allocation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

from hub.monitor.aggregate import Cell, CellKey
from hub.monitor.errors import BudgetFileError, PeriodError
from hub.monitor.periods import Period, first_day, parse_period
from schemas.regions import Region

__all__ = [
    "BudgetStatus",
    "Budgets",
    "LedgerLine",
    "ledger",
    "load_budgets",
    "periods_between",
]


class BudgetStatus(StrEnum):
    OK = "OK"
    AT_RISK = "AT_RISK"  # about to overrun
    OVERRUN = "OVERRUN"


@dataclass(frozen=True)
class Budgets:
    """Allocations per region (cents) and the programme they cover."""

    allocations: Mapping[Region, int]
    first_period: Period
    last_period: Period
    alert_share: float = 0.9
    source: str = ""

    def allocated(self, region: Region) -> int:
        return self.allocations.get(region, 0)


def load_budgets(path: Path | None = None) -> Budgets:
    """The allocations file ``path``, or the shipped (illustrative) ``budgets.json``.

    Amounts in the file are whole euros; the ledger works in cents.
    """
    try:
        if path is None:
            text = resources.files("hub.monitor").joinpath("budgets.json").read_text("utf-8")
            where = "hub/monitor/budgets.json"
        else:
            text, where = path.read_text(encoding="utf-8"), str(path)
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise BudgetFileError(f"cannot read the budget allocations: {exc}") from exc
    try:
        allocations = {
            Region(name): round(float(euro) * 100)
            for name, euro in dict(data["allocations"]).items()
        }
        programme = data["programme"]
        first = parse_period(str(programme["first_period"]))
        last = parse_period(str(programme["last_period"]))
        share = float(data.get("alert_share", 0.9))
    except (KeyError, TypeError, ValueError, PeriodError) as exc:
        raise BudgetFileError(f"{where}: malformed budget allocations: {exc}") from exc
    if first > last or not 0 < share <= 1:
        raise BudgetFileError(f"{where}: programme periods reversed or alert_share not in (0, 1]")
    if any(cents < 0 for cents in allocations.values()):
        raise BudgetFileError(f"{where}: negative allocation")
    return Budgets(allocations, first, last, share, str(data.get("source", "")))


def periods_between(first: Period, last: Period) -> int:
    """How many periods from ``first`` through ``last`` (inclusive)."""
    a, b = first_day(first), first_day(last)
    return ((b.year - a.year) * 12 + b.month - a.month) // 2 + 1


@dataclass(frozen=True)
class LedgerLine:
    """One region's budget through a period (amounts in cents)."""

    region: Region
    allocated: int
    committed: int
    paid: int
    released: int
    contributors: int

    @property
    def used(self) -> int:
        return self.committed + self.paid

    def share(self) -> float | None:
        return self.used / self.allocated if self.allocated else None

    def projected_share(self, elapsed: int, total: int) -> float | None:
        if not self.allocated or elapsed <= 0:
            return None
        return self.used / elapsed * max(total, elapsed) / self.allocated

    def status(self, budgets: Budgets, through: Period) -> BudgetStatus:
        elapsed = periods_between(budgets.first_period, through)
        total = periods_between(budgets.first_period, budgets.last_period)
        if self.used > self.allocated:
            return BudgetStatus.OVERRUN
        share = self.share()
        projected = self.projected_share(elapsed, total)
        if (share is not None and share >= budgets.alert_share) or (
            projected is not None and projected > 1
        ):
            return BudgetStatus.AT_RISK
        return BudgetStatus.OK


def ledger(cells: Mapping[CellKey, Cell], budgets: Budgets, through: Period) -> list[LedgerLine]:
    """Every region's ledger line through ``through`` (all regions, in region order)."""
    through = parse_period(through)
    sums: dict[Region, Cell] = {region: Cell() for region in Region}
    for (region, period), cell in cells.items():
        if period <= through:
            sums[region].merge(cell)
    lines = []
    for region in sorted(Region, key=lambda r: r.value):
        cell = sums[region]
        committed = sum(v for k, v in cell.money.items() if k.startswith("committed."))
        released = sum(v for k, v in cell.money.items() if k.startswith("released."))
        paid = sum(v for k, v in cell.money.items() if k.startswith("paid."))
        lines.append(
            LedgerLine(
                region=region,
                allocated=budgets.allocated(region),
                committed=committed - released - paid,
                paid=paid,
                released=released,
                contributors=cell.persons["ledger_new"],
            )
        )
    return lines
