"""Cells of CSV files that people open in a spreadsheet, with formula injection
neutralised.

Excel, LibreOffice Calc and Google Sheets read a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula (``=cmd|' /C calc'!A0``,
``=HYPERLINK(...)``): text a partner or a citizen typed must never run as one on a
reader's machine. Following OWASP ("CSV Injection"), such a text cell is prefixed with
a single quote, which spreadsheets show as text and do not evaluate. Numbers written as
numbers (a negative amount) are left alone: they are not text anyone typed.

Every CSV the hub writes for people uses :func:`safe_cell` on its text cells: the file
drop's CSV delivery (``connectors/delivery/formats.py``) and the national monitor's
report (``hub/monitor/report.py``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["FORMULA_TRIGGERS", "csv_line", "safe_cell"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

T = TypeVar("T")


def safe_cell(value: T) -> T | str:
    """``value``, with a single quote in front when it is text starting a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_line(cells: Iterable[object], *, delimiter: str = ",") -> str:
    """One CSV line ending in ``\\n``, every text cell through :func:`safe_cell`.

    A cell holding a carriage return or a line feed is quoted (with the csv module's
    ``lineterminator="\\n"`` a lone CR is not, and a reader splits the row there: a
    partner's text could add rows of its own to the file).
    """
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(
        [safe_cell(cell) for cell in cells]
    )
    return buffer.getvalue()[:-2] + "\n"
