"""Exports for an audit: the disclosures and the consent events of a partner, a subject
or a period, as CSV or JSON lines.

Streamed: the store is read a page at a time (:data:`PAGE_SIZE` rows, keyset by
``seq``) and each page becomes lines before the next is read, so an export of any size
holds one page in memory. CSV cells go through :func:`hub.spreadsheet.csv_line`
(formula injection neutralised); JSON lines are the stored records as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from enum import StrEnum

from consent.model import ConsentEvent, ConsentRecord, DisclosureRecord
from consent.store import ConsentStore, Window
from hub.spreadsheet import csv_line

__all__ = [
    "DISCLOSURE_COLUMNS",
    "EVENT_COLUMNS",
    "PAGE_SIZE",
    "ExportFormat",
    "disclosure_lines",
    "disclosures",
    "event_lines",
    "events",
]

PAGE_SIZE = 500
"""Rows read from the store per page."""


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    """JSON lines: one object per line."""


DISCLOSURE_COLUMNS = (
    "disclosure_id",
    "disclosed_at",
    "subject",
    "recipient",
    "recipient_kind",
    "purpose",
    "data_categories",
    "withheld_categories",
    "consent_ids",
    "record_type",
    "publisher",
    "policy_version",
)
EVENT_COLUMNS = (
    "seq",
    "event_id",
    "recorded_at",
    "occurred_at",
    "consent_id",
    "subject",
    "change",
    "actor",
    "reason",
    "controller",
    "recipients",
    "purposes",
    "data_categories",
    "valid_from",
    "valid_until",
)


def disclosures(
    store: ConsentStore, window: Window, page_size: int = PAGE_SIZE
) -> Iterator[DisclosureRecord]:
    """The disclosures of ``window``, in stored order, read page by page."""
    after = 0
    while True:
        page = store.disclosure_page(window, after, page_size)
        for _, disclosure in page:
            yield disclosure
        if len(page) < page_size:
            return
        after = page[-1][0]


def events(
    store: ConsentStore,
    window: Window,
    involves: Callable[[ConsentRecord], bool] | None = None,
    page_size: int = PAGE_SIZE,
) -> Iterator[ConsentEvent]:
    """The consent events of ``window`` in register order, read page by page; with
    ``involves``, only those whose consent it accepts (the window's partner)."""
    after = 0
    while True:
        page = store.event_page(window, after, page_size)
        for event in page:
            if involves is None or involves(event.record):
                yield event
        if len(page) < page_size:
            return
        after = page[-1].seq


def _ts(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _joined(values: Iterable[object]) -> str:
    return " ".join(str(v) for v in values)


def disclosure_lines(rows: Iterable[DisclosureRecord], fmt: ExportFormat) -> Iterator[str]:
    if fmt is ExportFormat.JSON:
        for row in rows:
            yield row.model_dump_json() + "\n"
        return
    yield csv_line(DISCLOSURE_COLUMNS)
    for d in rows:
        yield csv_line(
            (
                d.disclosure_id,
                _ts(d.disclosed_at),
                d.subject,
                d.recipient,
                d.recipient_kind,
                d.purpose,
                _joined(d.data_categories),
                _joined(d.withheld_categories),
                _joined(d.consent_ids),
                d.record_type or "",
                d.publisher or "",
                d.policy_version or "",
            )
        )


def event_lines(rows: Iterable[ConsentEvent], fmt: ExportFormat) -> Iterator[str]:
    if fmt is ExportFormat.JSON:
        for row in rows:
            yield row.model_dump_json() + "\n"
        return
    yield csv_line(EVENT_COLUMNS)
    for e in rows:
        r = e.record
        yield csv_line(
            (
                e.seq,
                e.event_id,
                _ts(e.recorded_at),
                _ts(e.occurred_at),
                e.consent_id,
                e.subject,
                e.change,
                e.actor,
                e.reason or "",
                r.controller,
                "; ".join(x.label() for x in r.recipients),
                _joined(r.purposes),
                _joined(r.data_categories),
                _ts(r.valid_from),
                _ts(r.valid_until),
            )
        )
