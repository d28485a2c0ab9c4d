"""The gemeente connector: the municipality's CSV export -> ClientProfile records.

Format: README.md beside this file. :func:`import_gemeente` streams a file through the
shared pipeline into the partner's outbox.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from connectors.common import ImportReport, import_file
from connectors.gemeente.mapping import COLUMNS, REQUIRED_COLUMNS, map_row, read_rows
from hub.sdk import PartnerClient
from schemas.models import ClientProfile

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "import_gemeente", "map_row", "read_rows"]


def import_gemeente(
    client: PartnerClient,
    path: Path,
    *,
    console: Console | None = None,
    progress: bool | None = None,
) -> ImportReport:
    """Import one gemeente CSV export as ``client``'s partner."""
    return import_file(
        client,
        path,
        read_rows,
        map_row,
        record_type=ClientProfile.avro_name,
        console=console,
        progress=progress,
    )
