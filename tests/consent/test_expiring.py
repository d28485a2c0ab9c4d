"""The expiring-consents gauge, on SQLite and PostgreSQL: the relay's background loop
(``ConsentService.housekeeping``) sets it to the consents ending within 30 days."""

from __future__ import annotations

from datetime import timedelta

from consent.crypto import BsnVault
from consent.model import utc_now
from consent.policy import load_policy
from consent.service import ConsentService
from consent.store import ConsentStore
from hub.metrics import HubMetrics
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
