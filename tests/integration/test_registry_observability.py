"""The embedded schema registry serves /metrics, /healthz and /readyz (broker + store)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from hub.config import HubSettings
from hub.kafka import admin_client
from hub.registry.embedded import EmbeddedRegistry

pytestmark = pytest.mark.integration


def test_registry_health_readiness_and_metrics(
    hub_settings: HubSettings, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("schemas")
    settings = hub_settings.model_copy(update={"schema_registry_topic": topic})
    try:
        with (
            EmbeddedRegistry(settings, port=0) as registry,
            httpx.Client(base_url=registry.url, timeout=30) as client,
        ):
            assert client.get("/healthz").json() == {"status": "ok"}
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"status": "ready", "checks": {"broker": "ok", "store": "ok"}}
            scraped = client.get("/metrics")
            assert scraped.status_code == 200
            assert "# TYPE rmt_records_in_total counter" in scraped.text
            assert "# TYPE rmt_delivery_latency_seconds histogram" in scraped.text
            assert client.get("/subjects").json() == []  # the Confluent API is still there
    finally:
        admin = admin_client(settings)
        try:
            admin.delete_topics([topic])
        finally:
            admin.close()
