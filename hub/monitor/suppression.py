"""Statistical disclosure control of the monitor's tables before anything leaves the monitor.

A :class:`Grid` is a table of regions x categories with its margins: row totals, column
totals and the grand total, each optional. Every entry has a value (people, steps or
cents), a number of *contributors* (distinct people behind it) and, for money, the
largest contributions of single people in it.

:func:`protect` marks entries as suppressed, with the parameters of one :class:`Rule`
(the rule set and its reasons: docs/decisions/0008-statistical-disclosure-control.md):

1. **Primary**: every non-zero entry with 1 to ``threshold - 1`` contributors, and every
   money entry that a few people dominate (the ``(n, k)`` rule: the ``dominance_top``
   largest contributions make up more than ``dominance_share`` of it). Zero is
   published: nobody is behind it.
2. **Secondary**, so that what the report itself reveals does not give a suppressed
   entry away. The **audit** models a reader who knows these rules: the published
   entries are exact, every additive relation of the grid holds (rows, columns, margins,
   grand total), and a suppressed entry is at least 1 - zeros are published, so a
   suppressed entry is not zero (``Rule.lower``). From that it derives the exact
   interval of every suppressed entry (the bounds of a linear program); where one is
   narrower than its protection - ``threshold`` for counts, ``money_protection`` of
   the value for amounts - one more entry is suppressed in its relations (the smallest
   positive one, published zeros last), until no suppressed entry is narrower (at worst
   everything non-zero is suppressed). Relations with a single suppressed entry are
   completed first, as a cheap start.

   Suppressing an entry only widens the reader's possibilities, so an entry once found
   wide enough stays so; and the interval of an entry and of its complement within a
   relation (the total minus the entry) have the same width.

The audit is exact and fast: a grid with its margins is a network (every entry is one
edge between its row relation and its column relation, see :func:`_ends`), so the
bounds of an entry are a maximum flow around it through the other suppressed entries,
each able to shrink to its lower bound and grow without limit (:func:`bounds`). A
relation whose margin is not part of the grid puts no constraint on its entries (a
"free" node).

Suppressed entries are marked explicitly (:meth:`Grid.is_suppressed`); renderers print
the mark, never the value.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "DEFAULT_THRESHOLD",
    "TOP_CONTRIBUTORS",
    "TOTAL",
    "Grid",
    "Rule",
    "Unit",
    "bounds",
    "narrow",
    "protect",
]

DEFAULT_THRESHOLD = 10
TOP_CONTRIBUTORS = 2
"""How many of the largest contributions per money entry the monitor keeps (the most the
dominance rule can look at)."""
TOTAL = "TOTAL"
"""Row or column label of a margin."""
_FREE = "FREE"
_INF = 1 << 62

Key = tuple[str, str]
Top = tuple[int, ...]
"""The largest contributions of single people to an entry, largest first."""


class Unit(StrEnum):
    PERSONS = "persons"
    EVENTS = "events"
    CENTS = "cents"


@dataclass(frozen=True)
class Rule:
    """Every parameter of the disclosure control (why these: the decision record
    docs/decisions/0008-statistical-disclosure-control.md)."""

    threshold: int = DEFAULT_THRESHOLD
    """Entries with 1 to ``threshold - 1`` contributors are suppressed; the interval a
    reader can derive for a suppressed count must be at least this wide."""
    money_protection: float = 0.5
    """The interval a reader can derive for a suppressed amount must be at least this
    share of the amount wide."""
    dominance_top: int = 2
    """(n, k) rule, n: how many of the largest contributions are summed ..."""
    dominance_share: float = 0.85
    """... k: an amount is suppressed when they make up more than this share of it."""

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("the suppression threshold must be at least 1")
        if not 0 < self.money_protection <= 1:
            raise ValueError("money_protection is a share: above 0, at most 1")
        if not 1 <= self.dominance_top <= TOP_CONTRIBUTORS:
            raise ValueError(f"dominance_top is 1 to {TOP_CONTRIBUTORS}")
        if not 0 < self.dominance_share <= 1:
            raise ValueError("dominance_share is a share: above 0, at most 1")

    def sensitive(self, contributors: int, value: int, top: Top = ()) -> bool:
        """Primary suppression: few people behind a non-zero entry, or a few dominate it."""
        if value == 0:
            return False
        return 0 < contributors < self.threshold or self.dominated(value, top)

    def dominated(self, value: int, top: Top) -> bool:
        """The ``dominance_top`` largest contributions exceed ``dominance_share`` of it."""
        return value > 0 and sum(top[: self.dominance_top]) > self.dominance_share * value

    def required(self, unit: Unit, value: int) -> int:
        """The narrowest interval a reader may derive for a suppressed entry."""
        if unit is Unit.CENTS:
            return max(1, math.ceil(abs(value) * self.money_protection))
        return self.threshold

    @staticmethod
    def lower(value: int) -> int:
        """What a reader knows of a suppressed entry from below: zeros are published, so
        it is at least 1 (an entry of 0 or less, suppressed only when nothing else was
        left, is taken as known from below: the reader is given more, never less)."""
        return min(1, value)


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
    top: dict[Key, Top] = field(default_factory=dict)
    """The largest contributions per entry (money grids; absent: not dominated)."""

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
        top: Callable[[str, str], Top] | None = None,
        row_top: Callable[[str], Top] | None = None,
    ) -> Grid:
        """A grid from ``cell(row, col) -> (value, contributors)``.

        Row totals come from ``row_total(row)`` (value, distinct contributors); column
        totals and the grand total are sums over rows (contributors too: people are
        counted per region, so the national figure is the sum of the regional ones).
        ``top(row, col)`` and ``row_top(row)`` give the largest contributions; those of
        a column total are the largest of its rows'.
        """
        values: dict[Key, int] = {}
        people: dict[Key, int] = {}
        largest: dict[Key, Top] = {}
        for row in rows:
            for col in cols:
                values[row, col], people[row, col] = cell(row, col)
                if top is not None:
                    largest[row, col] = top(row, col)
            if row_total is not None:
                values[row, TOTAL], people[row, TOTAL] = row_total(row)
                if row_top is not None:
                    largest[row, TOTAL] = row_top(row)
        if col_totals:
            for col in [*cols, TOTAL] if row_total is not None else cols:
                values[TOTAL, col] = sum(values[row, col] for row in rows)
                people[TOTAL, col] = sum(people[row, col] for row in rows)
                merged = sorted(v for row in rows for v in largest.get((row, col), ()))
                if merged:
                    largest[TOTAL, col] = tuple(reversed(merged[-TOP_CONTRIBUTORS:]))
        has_row_totals = row_total is not None
        grid = cls(name, title, rows, cols, unit, values, people, has_row_totals, col_totals)
        grid.top = largest
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


def _network(grid: Grid, key: Key) -> dict[str, dict[str, int]]:
    """The suppressed entries other than ``key`` as edges: each may grow without limit
    (forward) and shrink to what the reader knows from below (backward)."""
    capacity: dict[str, dict[str, int]] = {}
    for other in grid.suppressed:
        if other == key:
            continue
        a, b = _ends(grid, other)
        if a == b:
            continue
        capacity.setdefault(a, {})[b] = _INF
        back = capacity.setdefault(b, {})
        value = grid.values[other]
        back[a] = back.get(a, 0) + value - Rule.lower(value)
    return capacity


def bounds(grid: Grid, key: Key) -> tuple[int, int | None]:
    """What a reader derives for ``key`` from the published entries: (low, high).

    ``high`` None means unbounded. A published entry gives its value twice.
    """
    value = grid.values[key]
    if key not in grid.suppressed:
        return value, value
    floor = Rule.lower(value)
    tail, head = _ends(grid, key)
    if tail == head:  # an entry in no relation at all
        return floor, None
    capacity = _network(grid, key)
    up = _max_flow(capacity, head, tail, _INF)
    down = _max_flow(capacity, tail, head, value - floor) if value > floor else 0
    return value - min(value - floor, down), None if up >= _INF else value + up


def narrow(grid: Grid, key: Key, rule: Rule) -> bool:
    """Can a reader narrow suppressed ``key`` to an interval below its protection?

    :func:`bounds`, with each flow stopped once it reaches what is required."""
    value = grid.values[key]
    need = rule.required(grid.unit, value)
    tail, head = _ends(grid, key)
    if key not in grid.suppressed or tail == head:  # published, or in no relation
        return False
    capacity = _network(grid, key)
    up = _max_flow(capacity, head, tail, need)
    if up >= need:
        return False
    room = value - Rule.lower(value)
    down = _max_flow(capacity, tail, head, min(room, need - up)) if room > 0 else 0
    return up + min(room, down) < need


def narrowed(grid: Grid, rule: Rule) -> list[Key]:
    """The suppressed entries a reader can narrow below their protection (none after
    :func:`protect`)."""
    return [key for key in sorted(grid.suppressed) if narrow(grid, key, rule)]


# --- suppression ---------------------------------------------------------------------------------


def _score(grid: Grid, key: Key, completing: set[Key]) -> tuple[int, int, int, int]:
    """Which entry to suppress next, lowest first: positive before zero (published zeros
    are what the reader's lower bound rests on), interior before totals, one completing
    another relation first, then the smallest."""
    value = grid.values[key]
    return (int(value <= 0), int(TOTAL in key), int(key not in completing), value)


def _lonely_partners(grid: Grid) -> tuple[list[list[Key]], set[Key]]:
    """Relations with exactly one suppressed entry, and the entries that would complete one."""
    single = [r for r in grid.relations() if sum(k in grid.suppressed for k in r) == 1]
    completing = {k for r in single for k in r if k not in grid.suppressed}
    return single, completing


def _complete_relations(grid: Grid) -> None:
    while True:
        single, completing = _lonely_partners(grid)
        if not single:
            return
        relation = single[0]
        options = [k for k in relation if k not in grid.suppressed]
        grid.suppressed.add(min(options, key=lambda k: _score(grid, k, completing - set(relation))))


def _widener(grid: Grid, key: Key, relations: list[list[Key]]) -> Key | None:
    """The entry to suppress next for narrow ``key``: a positive one in its relations, else
    in those touching them, else anywhere; a zero only when every positive entry is
    suppressed; None when everything is."""
    own = [r for r in relations if key in r]
    touched = {k for r in own for k in r}
    near = [r for r in relations if touched & set(r)]
    scopes = [[k for r in own for k in r], [k for r in near for k in r], list(grid.entries())]
    _, completing = _lonely_partners(grid)
    for positive in (True, False):
        for scope in scopes:
            options = [
                k for k in scope if k not in grid.suppressed and (grid.values[k] > 0) is positive
            ]
            if options:
                return min(options, key=lambda k: _score(grid, k, completing))
    return None


def protect(grid: Grid, rule: Rule | None = None) -> Grid:
    """Mark the primary and secondary suppressions of ``grid`` (in place; returns it)."""
    rule = rule or Rule()
    grid.primary = {
        k
        for k in grid.entries()
        if rule.sensitive(grid.contributors[k], grid.values[k], grid.top.get(k, ()))
    }
    grid.suppressed = set(grid.primary)
    relations = grid.relations()
    wide: set[Key] = set()  # suppressing more never narrows an interval: checked once
    while True:
        _complete_relations(grid)
        weak = None
        for key in sorted(grid.suppressed - wide):
            if narrow(grid, key, rule):
                weak = key
                break
            wide.add(key)
        if weak is None:
            return grid
        more = _widener(grid, weak, relations)
        if more is None:
            return grid
        grid.suppressed.add(more)
