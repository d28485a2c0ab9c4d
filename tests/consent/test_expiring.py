"""The expiring-consents gauge, on SQLite and PostgreSQL: the relay's background loop
(``ConsentService.housekeeping``) sets it to the consents ending within 30 days."""

from __future__ import annotations

from datetime import timedelta

from consent.crypto import BsnVault
from consent.erasures import (
    ACK_DUE,
    AcknowledgeRequest,
    ErasureStatus,
    OverdueGauge,
    acknowledge,
    notices_for,
)
from consent.model import DisclosureRecord, utc_now
from consent.policy import load_policy
from consent.service import ConsentService
from consent.store import ConsentStore
from hub.ids import PartnerId
from hub.metrics import HubMetrics
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.consent.factories import terms
from topics.partners import load_partners


def test_housekeeping_sets_the_expiring_gauge(store: ConsentStore) -> None:
    metrics = HubMetrics(process_collectors=False)
    service = ConsentService(
        store,
        None,
        policy=load_policy(),
        partners=load_partners(),
        vault=BsnVault(b"k" * 32),
        metrics=metrics,
    )
    now = utc_now()
    for days in (2, 29, 31):
        service.grant(terms(valid_until=now + timedelta(days=days)), actor="officer:a")
    withdrawn = service.grant(terms(valid_until=now + timedelta(days=3)), actor="officer:a")
    service.withdraw(withdrawn.id, actor="officer:a")
    service.grant(terms(), actor="officer:a")  # no end
    service.housekeeping()
    assert metrics.value("rmt_consents_expiring") == 2


def test_regression_the_overdue_erasure_metric_was_promised_but_never_counted(
    store: ConsentStore,
) -> None:
    """The erasure module said overdue acknowledgements were a metric; none existed. The
    background loop now sets ``rmt_erasure_acks_overdue``: a notice unacknowledged after
    7 days counts until its recipient acknowledges it."""
    metrics = HubMetrics(process_collectors=False)
    now = [utc_now()]
    service = ConsentService(
        store,
        None,
        policy=load_policy(),
        partners=load_partners(),
        vault=BsnVault(b"k" * 32),
        metrics=metrics,
        clock=lambda: now[0],
    )
    record = service.grant(terms(), actor="officer:a")
    store.add_disclosure(
        DisclosureRecord(
            subject=record.subject,
            recipient=PartnerId("uwv"),
            recipient_kind=PartnerKind.UWV,
            purpose=Purpose.ARRANGEMENT,
            data_categories=(DataCategory.CONTACT,),
            consent_ids=(record.id,),
            disclosed_at=now[0],
        )
    )
    service.withdraw(record.id, actor="officer:a")
    gauge = OverdueGauge(service, every_s=0)
    gauge()
    assert metrics.value("rmt_erasure_acks_overdue") == 0  # sent, not yet due
    now[0] += ACK_DUE + timedelta(minutes=1)
    gauge()
    assert metrics.value("rmt_erasure_acks_overdue") == 1
    (notice,) = notices_for(service, record.subject)
    assert notice.status is ErasureStatus.OVERDUE
    acknowledge(
        service,
        PartnerId("uwv"),
        "partner:uwv",
        AcknowledgeRequest(
            notice_id=notice.notice_id,
            consent_event_id=notice.consent_event_id,
            client_pseudonym=record.subject,
        ),
    )
    gauge()
    assert metrics.value("rmt_erasure_acks_overdue") == 0
