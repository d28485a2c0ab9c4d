"""Partner ids and CloudEvents headers shared by the record-security tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hub.serde.cloudevents import ce_headers

UWV = "uwv"
AMSTERDAM = "gemeente-amsterdam"
UTRECHT = "gemeente-utrecht"
HUB = "hub"

Headers = list[tuple[str, bytes]]


def make_headers(
    source: str, event_id: str | None = None, record_type: str = "nl.rmt.hub.ClientProfile"
) -> Headers:
    """CloudEvents headers as the SDK writes them."""
    return ce_headers(
        event_id=event_id or str(uuid.uuid4()),
        source=source,
        record_type=record_type,
        time=datetime.now(UTC),
    )
