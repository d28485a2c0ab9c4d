"""The SBB connector: learning jobs, vacancies and practical-learning enrolments.

Format: README.md beside this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from rich.console import Console

from connectors.common import ImportReport, SourceRow, csv_rows, import_file, jsonl_rows
from connectors.common.errors import InputFormatError
from connectors.sbb.mapping import COLUMNS, KINDS, map_row
from hub.sdk import PartnerClient

__all__ = ["COLUMNS", "KINDS", "import_sbb", "map_row", "read_csv", "read_jsonl"]


def read_csv(stream: IO[str], label: str) -> Iterator[SourceRow]:
    """CSV rows (``;`` or ``,``), with at least the columns ``soort`` and ``id``."""
    return csv_rows(stream, required=("soort", "id"), label=label)


def read_jsonl(stream: IO[str], label: str) -> Iterator[SourceRow]:
    """JSON Lines rows."""
    return jsonl_rows(stream, label)


def import_sbb(
    client: PartnerClient,
    path: Path,
    *,
    console: Console | None = None,
    progress: bool | None = None,
) -> ImportReport:
    """Import one SBB export (``.csv``, or ``.jsonl``/``.ndjson``/``.json`` as JSON Lines)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        read = read_csv
    elif suffix in (".jsonl", ".ndjson", ".json"):
        read = read_jsonl
    else:
        raise InputFormatError(f"{path}: an SBB export is .csv or .jsonl, not '{suffix}'")
    return import_file(client, path, read, map_row, console=console, progress=progress)
