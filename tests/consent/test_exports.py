"""Exports read the store a page at a time, on SQLite and PostgreSQL: what is streamed is
never the whole table in memory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from consent import exports
from consent.model import DisclosureRecord, utc_now
from consent.store import ConsentStore, Window
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.consent.factories import terms
from tests.consent.test_store import service_on


class _Counting:
    """The real store, counting the rows each page read returns."""

    def __init__(self, store: ConsentStore) -> None:
        self.store = store
        self.pages: list[int] = []

    def disclosure_page(self, window: Window, after: int, limit: int) -> Any:
        page = self.store.disclosure_page(window, after, limit)
        self.pages.append(len(page))
        return page

    def event_page(self, window: Window, after: int, limit: int) -> Any:
        page = self.store.event_page(window, after, limit)
        self.pages.append(len(page))
        return page


def _disclosure(subject: str, minutes: int) -> DisclosureRecord:
    return DisclosureRecord(
        subject=ClientPseudonym(subject),
        recipient=PartnerId("uwv"),
        recipient_kind=PartnerKind.UWV,
        purpose=Purpose.MATCHING_PLACEMENT,
        data_categories=(DataCategory.CONTACT,),
        consent_ids=(ConsentId("c-1"),),
        disclosed_at=utc_now() - timedelta(minutes=minutes),
    )


def test_a_disclosure_export_of_5000_reads_page_by_page(store: ConsentStore) -> None:
    made = [_disclosure("client-many", i) for i in range(5000)]
    store.add_disclosures(made)
    counting = _Counting(store)
    stream = exports.disclosure_lines(
        exports.disclosures(cast(ConsentStore, counting), Window(), page_size=500),
        exports.ExportFormat.CSV,
    )
    assert next(stream).startswith("disclosure_id,")  # the header reads nothing
    assert counting.pages == []
    next(stream)
    assert counting.pages == [500]  # the first row: one page read, not the table
    rest = list(stream)
    assert len(rest) == 4999
    assert counting.pages == [500] * 10 + [0]
    assert [line.split(",")[0] for line in rest[-2:]] == [d.disclosure_id for d in made[-2:]]


def test_a_consent_event_export_reads_page_by_page_and_filters_the_partner(
    store: ConsentStore,
) -> None:
    service = service_on(store)
    for i in range(120):
        recipients = [{"partner_id": "sbb" if i % 3 == 0 else "uwv"}]
        service.grant(terms(f"client-{i:04d}", recipients=recipients), actor="officer:a")
    counting = _Counting(store)
    every = list(exports.events(cast(ConsentStore, counting), Window(), page_size=50))
    assert len(every) == 120
    assert counting.pages == [50, 50, 20]
    sbb = Window(partner=PartnerId("sbb"))
    involves = lambda r: any(x.partner_id == "sbb" for x in r.recipients)  # noqa: E731
    assert len(list(exports.events(store, sbb, involves, page_size=50))) == 40
    assert len(list(service.export_events(sbb))) == 40
