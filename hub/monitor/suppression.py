"""Small-cell suppression of the monitor's tables before anything leaves the monitor.

A :class:`Grid` is a table of regions x categories with its margins: row totals, column
totals and the grand total, each optional. Every entry has a value (people, steps or
cents) and a number of *contributors* (distinct people behind it).

:func:`protect` marks entries as suppressed in two stages:

1. **Primary**: every entry with 1 to ``threshold - 1`` contributors (default 10). Zero
   is published: nobody is behind it.
2. **Secondary**, so that the published entries do not give a suppressed one away:

   * every additive relation of the grid (a row with its total, a column with its total,
     the margins with the grand total) holding exactly one suppressed entry gets a
     second one - the smallest non-zero interior entry of that relation, preferring one
     that also completes another relation; totals only when nothing else is left;
   * then an **audit** computes, from the published entries only, the exact interval
     an attacker can derive for every primarily suppressed entry (the bounds of a
     linear program: relations hold, entries are non-negative). Where the interval is
     narrower than the required protection - ``threshold`` for counts, half the value
     for amounts - one more entry is suppressed in that entry's relations, and the
     audit runs again, until every interval is wide enough (at worst everything is
     suppressed).

   Because the interval of an entry and of its complement within a relation (the total
   minus the entry) have the same width, protecting the entry protects its complement.

The audit is exact and fast: a grid with its margins is a network (every entry is one
edge between its row relation and its column relation, see :func:`_ends`), so the
bounds of an entry are a maximum flow around it through the other suppressed entries
(:func:`bounds`). A relation whose margin is not part of the grid puts no constraint on
its entries (a "free" node).

Suppressed entries are marked explicitly (:meth:`Grid.is_suppressed`); renderers print
the mark, never the value.

This protects each published table, and tables that share only margins (the report
publishes every figure in exactly one table). Not covered: differencing across reports
(e.g. two successive cumulative budget ledgers give a region's spend in one period) and
dominance of one large amount in a money cell (no p% rule).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "DEFAULT_THRESHOLD",
    "TOTAL",
    "Grid",
    "Rule",
    "Unit",
    "bounds",
    "protect",
]

DEFAULT_THRESHOLD = 10
TOTAL = "TOTAL"
"""Row or column label of a margin."""
_FREE = "FREE"
_INF = 1 << 62

Key = tuple[str, str]


class Unit(StrEnum):
    PERSONS = "persons"
    EVENTS = "events"
    CENTS = "cents"


@dataclass(frozen=True)
class Rule:
    """The suppression rule: threshold on contributors, and the protection required."""

    threshold: int = DEFAULT_THRESHOLD
    money_protection: float = 0.5

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("the suppression threshold must be at least 1")

    def sensitive(self, contributors: int) -> bool:
        return 0 < contributors < self.threshold

    def required(self, unit: Unit, value: int) -> int:
        """The narrowest interval an attacker may derive for a sensitive entry."""
        if unit is Unit.CENTS:
            return max(1, math.ceil(value * self.money_protection))
        return self.threshold


@dataclass
class Grid:
    """A region x category table with optional margins, and what is suppressed in it."""

    name: str
    title: str
    rows: list[str]
    cols: list[str]
    unit: Unit
    values: dict[Key, int]
    contributors: dict[Key, int]
    row_totals: bool = True
    col_totals: bool = True
    primary: set[Key] = field(default_factory=set)
    suppressed: set[Key] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        name: str,
        title: str,
        rows: list[str],
        cols: list[str],
        *,
        unit: Unit,
        cell: Callable[[str, str], tuple[int, int]],
        row_total: Callable[[str], tuple[int, int]] | None = None,
        col_totals: bool = True,
    ) -> Grid:
        """A grid from ``cell(row, col) -> (value, contributors)``.

        Row totals come from ``row_total(row)`` (value, distinct contributors); column
        totals and the grand total are sums over rows (contributors too: people are
        counted per region, so the national figure is the sum of the regional ones).
        """
        values: dict[Key, int] = {}
        people: dict[Key, int] = {}
        for row in rows:
            for col in cols:
                values[row, col], people[row, col] = cell(row, col)
            if row_total is not None:
                values[row, TOTAL], people[row, TOTAL] = row_total(row)
        if col_totals:
            for col in [*cols, TOTAL] if row_total is not None else cols:
                values[TOTAL, col] = sum(values[row, col] for row in rows)
                people[TOTAL, col] = sum(people[row, col] for row in rows)
        grid = cls(name, title, rows, cols, unit, values, people, row_total is not None, col_totals)
        grid.check()
        return grid

    @property
    def grand_total(self) -> bool:
        return self.row_totals and self.col_totals

    def entries(self) -> Iterator[Key]:
        """Every entry: interior, then row totals, column totals, grand total."""
        yield from ((r, c) for r in self.rows for c in self.cols)
        if self.row_totals:
            yield from ((r, TOTAL) for r in self.rows)
        if self.col_totals:
            yield from ((TOTAL, c) for c in self.cols)
        if self.grand_total:
            yield (TOTAL, TOTAL)

    def check(self) -> None:
        """Raise ValueError when a margin is not the sum of its entries."""
        for row in self.rows if self.row_totals else []:
            if sum(self.values[row, c] for c in self.cols) != self.values[row, TOTAL]:
                raise ValueError(f"{self.name}: row {row} does not add up to its total")
        for col in [*self.cols, TOTAL] if self.grand_total else self.cols:
            if (
                self.col_totals
                and sum(self.values[r, col] for r in self.rows) != self.values[TOTAL, col]
            ):
                raise ValueError(f"{self.name}: column {col} does not add up to its total")

    def is_suppressed(self, row: str, col: str) -> bool:
        return (row, col) in self.suppressed

    def published(self, row: str, col: str) -> int | None:
        """The value as published: None when suppressed."""
        return None if (row, col) in self.suppressed else self.values[row, col]

    def relations(self) -> list[list[Key]]:
        """Every additive relation (its entries, total last) the grid publishes."""
        out: list[list[Key]] = []
        if self.row_totals:
            out += [[(r, c) for c in self.cols] + [(r, TOTAL)] for r in self.rows]
            if self.grand_total:
                out.append([(r, TOTAL) for r in self.rows] + [(TOTAL, TOTAL)])
        if self.col_totals:
            out += [[(r, c) for r in self.rows] + [(TOTAL, c)] for c in self.cols]
            if self.grand_total:
                out.append([(TOTAL, c) for c in self.cols] + [(TOTAL, TOTAL)])
        return out


# --- the audit: bounds by maximum flow ---------------------------------------------------------


def _ends(grid: Grid, key: Key) -> tuple[str, str]:
    """The edge (tail, head) of ``key`` in the grid's network.

    Row relation i: sum_j x_ij - x_iT = 0; column relation j: sum_i x_ij - x_Tj = 0 (and
    the margins with the grand total likewise). Multiplying the column relations and the
    totals-row relation by -1 leaves every entry with +1 in one relation and -1 in the
    other: an edge from the first to the second.
    """
    row, col = key
    if row == TOTAL:
        row_node = "R:" + TOTAL if grid.grand_total else _FREE
    else:
        row_node = f"R:{row}" if grid.row_totals else _FREE
    if col == TOTAL:
        col_node = "C:" + TOTAL if grid.grand_total else _FREE
    else:
        col_node = f"C:{col}" if grid.col_totals else _FREE
    if (row == TOTAL) == (col == TOTAL):
        return row_node, col_node
    return col_node, row_node


def _max_flow(capacity: dict[str, dict[str, int]], source: str, sink: str, limit: int) -> int:
    """Edmonds-Karp from ``source`` to ``sink``, stopping once ``limit`` is reached."""
    if source == sink:
        return _INF
    residual = {u: dict(edges) for u, edges in capacity.items()}
    flow = 0
    while flow < limit:
        parent: dict[str, str] = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            node = queue.popleft()
            for nxt, cap in residual.get(node, {}).items():
                if cap > 0 and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if sink not in parent:
            break
        push, node = _INF, sink
        while node != source:
            push = min(push, residual[parent[node]][node])
            node = parent[node]
        node = sink
        while node != source:
            prev = parent[node]
            residual[prev][node] -= push
            residual.setdefault(node, {})[prev] = residual.get(node, {}).get(prev, 0) + push
            node = prev
        flow += push
    return flow


def bounds(grid: Grid, key: Key) -> tuple[int, int | None]:
    """What an attacker derives for ``key`` from the published entries: (low, high).

    ``high`` None means unbounded. A published entry gives its value twice.
    """
    value = grid.values[key]
    if key not in grid.suppressed:
        return value, value
    tail, head = _ends(grid, key)
    if tail == head:  # an entry in no relation at all
        return 0, None
    capacity: dict[str, dict[str, int]] = {}
    for other in grid.suppressed:
        if other == key:
            continue
        a, b = _ends(grid, other)
        if a == b:
            continue
        capacity.setdefault(a, {})[b] = _INF
        back = capacity.setdefault(b, {})
        back[a] = back.get(a, 0) + grid.values[other]
    up = _max_flow(capacity, head, tail, _INF)
    down = _max_flow(capacity, tail, head, value) if value else 0
    return value - min(value, down), None if up >= _INF else value + up


# --- suppression ---------------------------------------------------------------------------------


def _candidates(grid: Grid, relation: list[Key]) -> list[Key]:
    return [k for k in relation if k not in grid.suppressed]


def _score(grid: Grid, key: Key, lonely: set[Key]) -> tuple[int, int, int, int]:
    is_total = TOTAL in key
    value = grid.values[key]
    return (int(is_total), int(key not in lonely), int(value == 0), value)


def _lonely_partners(grid: Grid) -> tuple[list[list[Key]], set[Key]]:
    """Relations with exactly one suppressed entry, and the entries that would complete one."""
    single = [r for r in grid.relations() if sum(k in grid.suppressed for k in r) == 1]
    completing = {k for r in single for k in r if k not in grid.suppressed}
    return single, completing


def _complete_relations(grid: Grid) -> bool:
    changed = False
    while True:
        single, completing = _lonely_partners(grid)
        if not single:
            return changed
        relation = single[0]
        options = _candidates(grid, relation)
        best = min(options, key=lambda k: _score(grid, k, completing - set(relation)))
        grid.suppressed.add(best)
        changed = True


def _weak(grid: Grid, rule: Rule) -> list[Key]:
    weak = []
    for key in sorted(grid.primary):
        low, high = bounds(grid, key)
        need = rule.required(grid.unit, grid.values[key])
        if high is not None and high - low < need:
            weak.append(key)
    return weak


def protect(grid: Grid, rule: Rule | None = None) -> Grid:
    """Mark the primary and secondary suppressions of ``grid`` (in place; returns it)."""
    rule = rule or Rule()
    grid.primary = {k for k in grid.entries() if rule.sensitive(grid.contributors[k])}
    grid.suppressed = set(grid.primary)
    relations = grid.relations()
    while True:
        _complete_relations(grid)
        weak = _weak(grid, rule)
        if not weak:
            return grid
        key = weak[0]
        around = [k for r in relations if key in r for k in _candidates(grid, r)]
        if not around:  # its relations are all suppressed: widen through their neighbours
            touched = {k for r in relations if key in r for k in r}
            around = [k for r in relations if touched & set(r) for k in _candidates(grid, r)]
        if not around:
            return grid  # nothing left to suppress that could widen it
        _, completing = _lonely_partners(grid)
        grid.suppressed.add(min(around, key=lambda k: _score(grid, k, completing)))
