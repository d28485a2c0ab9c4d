"""Printing an import report: a summary line and the bad rows as a table."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from connectors.common.errors import RowError
from connectors.common.pipeline import ImportReport

__all__ = ["print_report", "row_error_table"]


def row_error_table(errors: Iterable[RowError], *, title: str = "Rejected rows") -> Table:
    """file, line, field, reason: one row per problem."""
    table = Table(title=title)
    table.add_column("file", overflow="fold")
    table.add_column("line", justify="right")
    table.add_column("field", overflow="fold")
    table.add_column("reason", overflow="fold")
    table.add_column("code", style="dim")
    for error in errors:
        table.add_row(
            error.file, str(error.line), error.field or "-", error.reason, error.code.value
        )
    return table


def print_report(report: ImportReport, console: Console) -> None:
    """The bad rows (if any) and the summary line."""
    if report.errors:
        shown = len(report.errors)
        title = "Rejected rows"
        if report.rejected_rows > shown:
            title += f" (first {shown} problems of {report.rejected_rows} rows)"
        console.print(row_error_table(report.errors, title=title))
    style = "green" if report.ok else "yellow"
    console.print(f"[{style}]{report.summary()}[/]", highlight=False)
    if report.rejected_rows:
        console.print(
            f"{report.rejected_rows} bad row(s) went to the dead-letter topic "
            f"({report.dead_letters} new dead letter(s))",
            highlight=False,
        )
