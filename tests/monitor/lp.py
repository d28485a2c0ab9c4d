"""An exact linear-programming check for the suppression tests (independent of the monitor).

:func:`interval` gives the range of a linear expression over variables with lower bounds
(0 unless given) that satisfy linear equalities: what an attacker can derive about
suppressed figures from the published ones. A two-phase simplex with Bland's rule over
fractions: slow, exact, tiny.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

__all__ = ["interval"]

Equation = tuple[Mapping[str, int], int]
"""sum(coefficient * variable) == constant."""


def _pivot(rows: list[list[Fraction]], r: int, c: int) -> None:
    pivot = rows[r][c]
    rows[r] = [v / pivot for v in rows[r]]
    for i, row in enumerate(rows):
        if i != r and row[c] != 0:
            factor = row[c]
            rows[i] = [a - factor * b for a, b in zip(row, rows[r], strict=True)]


def _run(rows: list[list[Fraction]], basis: list[int], cost: list[Fraction], allowed: int) -> bool:
    """Minimise ``cost`` (columns < ``allowed`` may enter); False when unbounded."""
    m = len(rows)
    while True:
        reduced = [
            cost[j] - sum(cost[basis[i]] * rows[i][j] for i in range(m)) for j in range(allowed)
        ]
        entering = next((j for j in range(allowed) if reduced[j] < 0 and j not in basis), None)
        if entering is None:
            return True
        ratios = [
            (rows[i][-1] / rows[i][entering], basis[i], i)
            for i in range(m)
            if rows[i][entering] > 0
        ]
        if not ratios:
            return False
        _, _, leave = min(ratios)
        _pivot(rows, leave, entering)
        basis[leave] = entering


def _minimum(
    names: Sequence[str], equations: Sequence[Equation], target: Mapping[str, int]
) -> Fraction | None:
    n = len(names)
    index = {name: j for j, name in enumerate(names)}
    rows: list[list[Fraction]] = []
    for coefficients, constant in equations:
        row = [Fraction(0)] * n
        for name, value in coefficients.items():
            row[index[name]] += value
        rhs = Fraction(constant)
        if rhs < 0:
            row, rhs = [-v for v in row], -rhs
        rows.append([*row, rhs])
    m = len(rows)
    # phase 1: artificial variables n..n+m-1
    rows = [
        row[:-1] + [Fraction(int(i == k)) for k in range(m)] + [row[-1]]
        for i, row in enumerate(rows)
    ]
    basis = list(range(n, n + m))
    phase1 = [Fraction(0)] * n + [Fraction(1)] * m
    _run(rows, basis, phase1, n + m)
    if sum(rows[i][-1] for i in range(m) if basis[i] >= n) != 0:
        raise ValueError("the published figures are inconsistent (no solution)")
    for i in range(m):  # drive artificials out of the basis
        if basis[i] >= n:
            column = next((j for j in range(n) if rows[i][j] != 0), None)
            if column is not None:
                _pivot(rows, i, column)
                basis[i] = column
    keep = [i for i in range(m) if basis[i] < n]
    rows = [[*rows[i][:n], rows[i][-1]] for i in keep]
    basis = [basis[i] for i in keep]
    cost = [Fraction(target.get(name, 0)) for name in names]
    if not _run(rows, basis, cost, n):
        return None
    return sum((cost[basis[i]] * rows[i][-1] for i in range(len(rows))), Fraction(0))


def interval(
    names: Sequence[str],
    equations: Sequence[Equation],
    target: Mapping[str, int],
    constant: int = 0,
    lower: Mapping[str, int] | None = None,
) -> tuple[Fraction | None, Fraction | None]:
    """min and max of ``constant + sum(target[v] * v)`` (None: unbounded that way), every
    variable ``v`` at least ``lower[v]`` (0 when not given)."""
    floor = lower or {}
    # v = floor[v] + y with y >= 0
    shifted = [
        (coefficients, value - sum(c * floor.get(n, 0) for n, c in coefficients.items()))
        for coefficients, value in equations
    ]
    constant += sum(c * floor.get(n, 0) for n, c in target.items())
    low = _minimum(names, shifted, target)
    high = _minimum(names, shifted, {k: -v for k, v in target.items()})
    return (
        None if low is None else low + constant,
        None if high is None else -high + constant,
    )
