"""An isolated hub for the hostile-input tests of the connectors (webhook, files).

Like ``tests/connectors/conftest.py``'s ``hub_env``, but built once per test module: its
own topic prefix and a small partner directory (one partner of every kind), the
catalogue applied on the session's broker, the session's schema registry, and the
partners' keys (record security on, the default).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from kafka.errors import KafkaError

from hub.config import HubSettings
from hub.kafka import admin_client
from schemas.identifiers import is_valid_bsn
from tests.helpers.connectors import isolated_hub

__all__ = ["connector_hub", "valid_bsn"]


@contextmanager
def connector_hub(settings: HubSettings, registry_url: str, home: Path) -> Iterator[HubSettings]:
    made, topics = isolated_hub(settings, registry_url, home, f"hc{uuid.uuid4().hex[:10]}")
    try:
        yield made
    finally:
        admin = admin_client(made)
        with suppress(KafkaError):
            admin.delete_topics(topics)
        admin.close()


def valid_bsn(n: int) -> str:
    """The ``n``-th (mod 10^8) nine-digit number passing the eleven-test."""
    base = n % 10**8
    for bump in range(100):
        head = f"{(base + bump) % 10**8:08d}"
        total = sum(int(d) * w for d, w in zip(head, range(9, 1, -1), strict=True))
        check = total % 11
        if check < 10:
            bsn = head + str(check)
            if is_valid_bsn(bsn):
                return bsn
    raise AssertionError("no BSN found")  # pragma: no cover
