"""The UWV connector: JSON Lines of people entering WW -> ClientProfile (+ arrangement).

Format: README.md beside this file.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from connectors.common import ImportReport, import_file
from connectors.uwv.mapping import map_row, read_rows
from hub.sdk import PartnerClient
from schemas.models import ClientProfile

__all__ = ["import_uwv", "map_row", "read_rows"]


def import_uwv(
    client: PartnerClient,
    path: Path,
    *,
    console: Console | None = None,
    progress: bool | None = None,
) -> ImportReport:
    """Import one UWV JSON Lines export as ``client``'s partner."""
    return import_file(
        client,
        path,
        read_rows,
        map_row,
        record_type=ClientProfile.avro_name,
        console=console,
        progress=progress,
    )
