"""The two-month reporting periods of the national monitor: ``'YYYY-MM/MM'``.

Regions report every two months: January/February, March/April, ... The period of a
day is :func:`schemas.models.two_month_period`; this module parses and orders them.
"""

from __future__ import annotations

import re
from datetime import date

from hub.monitor.errors import PeriodError
from schemas.models import two_month_period

__all__ = ["Period", "first_day", "parse_period", "period_of"]

_PERIOD = re.compile(r"^(\d{4})-(\d{2})/(\d{2})$")

Period = str
"""A period in its text form, e.g. ``'2021-03/04'`` (text order is time order)."""


def period_of(day: date) -> Period:
    """The period ``day`` falls in."""
    return two_month_period(day)


def parse_period(text: str) -> Period:
    """``text`` checked to be a two-month period ('2021-03/04'); PeriodError otherwise."""
    found = _PERIOD.match(text.strip())
    if found is None:
        raise PeriodError(f"'{text}' is not a period 'YYYY-MM/MM', e.g. '2021-03/04'")
    year, first, second = (int(part) for part in found.groups())
    if first not in range(1, 12, 2) or second != first + 1 or year < 1:
        raise PeriodError(
            f"'{text}' is not a two-month period: the months are 01/02, 03/04, ... 11/12"
        )
    return f"{year:04d}-{first:02d}/{second:02d}"


def first_day(period: Period) -> date:
    """The first day of ``period``."""
    parsed = parse_period(period)
    return date(int(parsed[:4]), int(parsed[5:7]), 1)
