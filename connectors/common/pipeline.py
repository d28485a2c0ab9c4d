"""The import pipeline every inbound adapter shares.

rows (streamed) -> mapper -> canonical records -> stamped with their event ids ->
published through the partner SDK (skipping event ids already on the outbox); a row the
mapper rejects becomes :class:`RowError` s and a dead letter, and the rows around it go
on. At the end the producer is flushed: an import that returns has every good row on
the broker. An import that fails half-way (broker gone) can simply be run again: the
event ids make the second run publish only what is missing.

Memory stays flat: rows are read one at a time, sends are asynchronous with the
producer's bounded buffer as back-pressure, and only the first ``keep_errors`` row
errors are kept for the report (all of them are counted and dead-lettered).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rich.console import Console

from connectors.common.deadletter import publish_row_dead_letter
from connectors.common.errors import FieldProblem, RowError, RowRejected
from connectors.common.progress import byte_progress
from connectors.common.reading import CountingReader, SourceRow, open_text
from hub.errors import RecordError
from hub.sdk import PartnerClient
from schemas.models import Envelope

__all__ = [
    "ImportReport",
    "MapContext",
    "Mapper",
    "RowSource",
    "import_file",
    "import_rows",
]


@dataclass(frozen=True)
class MapContext:
    """What a mapper may use besides the row: the publishing client (identity, pseudonyms)."""

    client: PartnerClient

    @property
    def partner_id(self) -> str:
        return self.client.partner_id


Mapper = Callable[[SourceRow, MapContext], Sequence[Envelope]]
"""Turns one row into canonical records (unstamped); raises RowRejected when it cannot."""
RowSource = Callable[[IO[str], str], Iterator[SourceRow]]
"""Reads rows from a text stream; the second argument labels the input in errors."""


@dataclass
class ImportReport:
    """What one import did."""

    source: str
    rows: int = 0
    records: int = 0
    published: int = 0
    duplicates: int = 0
    rejected_rows: int = 0
    dead_letters: int = 0
    errors: list[RowError] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rejected_rows == 0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.source}: {self.rows} rows, {self.published} records published, "
            f"{self.duplicates} already published, {self.rejected_rows} rows rejected "
            f"({self.elapsed_s:.1f}s)"
        )


def _problems_of(exc: RecordError) -> list[FieldProblem]:
    return [FieldProblem(exc.field, str(exc))]


def import_rows(
    client: PartnerClient,
    rows: Iterable[SourceRow],
    mapper: Mapper,
    *,
    source: str,
    label: str | None = None,
    record_type: str | None = None,
    keep_errors: int = 1000,
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Map and publish every row; report and dead-letter the bad ones; flush at the end.

    ``source`` is the dead letters' ``source_topic`` (``file:<name>``), ``label`` the
    ``file`` of the row errors (the path as given).
    """
    report = ImportReport(source=label or source)
    context = MapContext(client)
    started = time.perf_counter()
    for row in rows:
        report.rows += 1
        if on_row is not None:
            on_row()
        try:
            if row.problem is not None:
                raise RowRejected([row.problem])
            records = [client.stamp(record) for record in mapper(row, context)]
            for record in records:
                try:
                    result = client.publish(record)
                except RecordError as exc:
                    raise RowRejected(_problems_of(exc)) from exc
                report.records += 1
                if result.published:
                    report.published += 1
                else:
                    report.duplicates += 1
        except RowRejected as rejected:
            report.rejected_rows += 1
            for problem in rejected.problems:
                if len(report.errors) < keep_errors:
                    report.errors.append(
                        RowError(
                            report.source, row.line, problem.field, problem.reason, problem.code
                        )
                    )
            published = publish_row_dead_letter(
                client,
                source=source,
                line=row.line,
                raw=row.raw,
                problems=rejected.problems,
                record_type=record_type,
            )
            report.dead_letters += int(published.published)
    client.flush()
    report.elapsed_s = time.perf_counter() - started
    return report


def import_file(
    client: PartnerClient,
    path: Path,
    read: RowSource,
    mapper: Mapper,
    *,
    record_type: str | None = None,
    console: Console | None = None,
    progress: bool | None = None,
) -> ImportReport:
    """Stream ``path`` through ``read`` and ``mapper`` into the partner's outbox.

    A progress bar over the bytes read is shown when ``console`` is a terminal (or
    ``progress`` says so).
    """
    stream, counter = open_text(path)
    total = path.stat().st_size
    bar: AbstractContextManager[Callable[[int], None]] = byte_progress(
        path.name, total, console or Console(stderr=True), enabled=progress
    )
    with stream, bar as update:
        ticks = _Ticker(counter, update)
        return import_rows(
            client,
            read(stream, str(path)),
            mapper,
            source=f"file:{path.name}",
            label=str(path),
            record_type=record_type,
            on_row=ticks,
        )


class _Ticker:
    """Updates the progress bar every 256 rows (updating per row would cost more than it shows)."""

    def __init__(self, counter: CountingReader, update: Callable[[int], None]) -> None:
        self._counter = counter
        self._update = update
        self._rows = 0

    def __call__(self) -> None:
        self._rows += 1
        if self._rows % 256 == 0:
            self._update(self._counter.bytes_read)
