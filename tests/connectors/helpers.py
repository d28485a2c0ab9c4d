"""Helpers of the connector tests: records, an inbox filler acting as the router, a webhook."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hub.config import HubSettings
from hub.ids import ClientPseudonym, EventId, PartnerId
from hub.registry import RegistryClient
from hub.sdk import CanonicalCodec, RecordWriter, record_key
from hub.sdk.event_ids import with_event_id
from hub.sdk.security import Protect
from hub.security.config import partner_key_store, security_enabled
from hub.security.pipeline import HubSecurity
from hub.serde import ce_headers
from schemas.models import ClientProfile, Envelope, PlacementOutcome
from schemas.models.enums import OutcomeType
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus, EducationLevel, JobSeekerCategory


def profile(n: int, *, source: str = "uwv", subject: str | None = None) -> ClientProfile:
    """A small valid profile; ``subject`` picks the pseudonym (default: one per n)."""
    record = ClientProfile(
        event_id=EventId(""),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        source_partner=PartnerId(source),
        client_pseudonym=ClientPseudonym(subject or f"psn-test-{n:04d}"),
        bsn="123456782",
        given_name=f"Persoon {n}",
        family_name="Jansen",
        date_of_birth=date(1980, 1, 1),
        municipality_code="0363",
        region=Region.GROOT_AMSTERDAM,
        job_seeker_category=JobSeekerCategory.WW_ENTRANT,
        education_level=EducationLevel.MBO_2,
        starting_qualification=True,
        benefit_status=BenefitStatus.WW,
    )
    return with_event_id(record, source)


def outcome(n: int, subject: str, *, source: str = "sbb") -> PlacementOutcome:
    record = PlacementOutcome(
        event_id=EventId(""),
        occurred_at=datetime(2026, 2, 1, tzinfo=UTC) + timedelta(minutes=n),
        source_partner=PartnerId(source),
        client_pseudonym=ClientPseudonym(subject),
        outcome_id=f"out-{n}",
        outcome=OutcomeType.PLACED_IN_WORK,
        started_on=date(2026, 3, 1),
    )
    return with_event_id(record, source)


def as_hub(
    settings: HubSettings, partner_id: str, topic: str, key: bytes, value: bytes | None
) -> tuple[bytes | None, list[tuple[str, bytes]]]:
    """Raw bytes for ``partner_id``'s inbox as the router writes them: CloudEvents
    headers, encrypted and hub-signed when record security is on."""
    headers = ce_headers(
        event_id=str(uuid.uuid4()), source="hub", record_type="raw", time=datetime.now(UTC)
    )
    if not security_enabled(settings):
        return value, headers
    return HubSecurity.from_store(partner_key_store(settings)).seal_delivery(
        recipient=partner_id, topic=topic, key=key, value=value, headers=headers
    )


def fill_inbox(settings: HubSettings, partner_id: str, records: list[Envelope]) -> None:
    """Write ``records`` to the partner's inbox as the hub's router would (wire format;
    encrypted to the partner and hub-signed when record security is on)."""
    assert settings.schema_registry_url is not None
    topic = f"{settings.topic_prefix}.partner.{partner_id}.inbox"
    protect: Protect | None = None
    if security_enabled(settings):
        hub = HubSecurity.from_store(partner_key_store(settings))

        def protect(
            topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
        ) -> tuple[bytes | None, list[tuple[str, bytes]]]:
            return hub.seal_delivery(
                recipient=partner_id, topic=topic, key=key, value=value, headers=headers
            )

    with RegistryClient(settings.schema_registry_url) as registry:
        writer = RecordWriter(settings, CanonicalCodec(registry), client_id="test-router")
        try:
            for record in records:
                writer.send(
                    topic,
                    record,
                    key=record_key(record),
                    event_id=record.event_id,
                    source="hub",
                    time=record.occurred_at,
                    protect=protect,
                )
            writer.flush()
        finally:
            writer.close()


@dataclass
class Received:
    """What the test webhook took: one entry per accepted POST."""

    accepted: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def flaky_webhook(fail_first: int, *, status: int = 503) -> Iterator[tuple[str, Received]]:
    """A real HTTP server that refuses the first ``fail_first`` attempts of every record."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            event_id = self.headers.get("ce-id", "")
            with received.lock:
                tries = received.attempts.get(event_id, 0) + 1
                received.attempts[event_id] = tries
                ok = tries > fail_first
                if ok:
                    received.accepted.append(
                        (event_id, self.headers.get("ce-subject", ""), json.loads(body))
                    )
            self.send_response(202 if ok else status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
