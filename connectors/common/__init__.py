"""What every connector shares: streaming readers, field parsing, the import pipeline,
row errors and their dead letters, progress bars and reports."""

from __future__ import annotations

from connectors.common.errors import (
    ConnectorError,
    FieldProblem,
    InputFormatError,
    RowError,
    RowRejected,
)
from connectors.common.fields import Fields, at_midnight, build, parse_date
from connectors.common.pipeline import (
    ImportReport,
    MapContext,
    Mapper,
    RowSource,
    import_file,
    import_rows,
)
from connectors.common.reading import SourceRow, csv_rows, jsonl_rows
from connectors.common.report import print_report, row_error_table

__all__ = [
    "ConnectorError",
    "FieldProblem",
    "Fields",
    "ImportReport",
    "InputFormatError",
    "MapContext",
    "Mapper",
    "RowError",
    "RowRejected",
    "RowSource",
    "SourceRow",
    "at_midnight",
    "build",
    "csv_rows",
    "import_file",
    "import_rows",
    "jsonl_rows",
    "parse_date",
    "print_report",
    "row_error_table",
]
