"""Fixtures of the connector tests: one schema registry per session, isolated hubs per test.

``hub_env()`` gives settings with a topic prefix and a small partner directory of their
own (one partner of every kind), the catalogue applied on the session's broker and the
session's registry, so tests never share topics or consumer groups.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaError

from hub.config import HubSettings
from hub.kafka import admin_client
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry
from hub.sdk import CanonicalCodec, PartnerClient, scan_topic
from hub.serde import SerializationContext
from schemas.models import CanonicalRecord
from topics import apply_catalogue, build_catalogue

PARTNERS = [
    {"id": "uwv", "kind": "UWV", "name": "UWV", "region": None},
    {"id": "sbb", "kind": "SBB", "name": "SBB", "region": None},
    {"id": "sp-werkgevers", "kind": "SOCIAL_PARTNER", "name": "Werkgevers", "region": None},
    {
        "id": "gemeente-amsterdam",
        "kind": "GEMEENTE",
        "name": "Gemeente Amsterdam",
        "region": "GROOT_AMSTERDAM",
    },
]
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def registry_url(hub_settings: HubSettings) -> Iterator[str]:
    """An embedded schema registry for the connector tests, on a free port."""
    settings = hub_settings.model_copy(
        update={"schema_registry_topic": f"_schemas-connectors-{uuid.uuid4().hex[:8]}"}
    )
    with EmbeddedRegistry(settings, port=0) as registry:
        yield registry.url


@pytest.fixture
def hub_env(
    hub_settings: HubSettings, registry_url: str, tmp_path: Path
) -> Iterator[Callable[[], HubSettings]]:
    """Make isolated hub settings (own prefix, partners, data dir); topics deleted after."""
    created: list[str] = []

    def make() -> HubSettings:
        prefix = f"c{uuid.uuid4().hex[:10]}"
        home = tmp_path / prefix
        home.mkdir()
        partners = home / "partners.json"
        partners.write_text(json.dumps({"partners": PARTNERS}), encoding="utf-8")
        settings = hub_settings.model_copy(
            update={
                "topic_prefix": prefix,
                "partners_file": partners,
                "schema_registry_url": registry_url,
                "data_dir": home / "data",
            }
        )
        catalogue = build_catalogue(settings)
        admin = admin_client(settings)
        try:
            apply_catalogue(admin, catalogue)
        finally:
            admin.close()
        created.extend(catalogue.names())
        return settings

    yield make
    if created:
        admin = admin_client(hub_settings)
        with suppress(KafkaError):
            admin.delete_topics(created)
        admin.close()


@pytest.fixture
def env(hub_env: Callable[[], HubSettings]) -> HubSettings:
    """One isolated hub for this test."""
    return hub_env()


def read_records(
    settings: HubSettings, topic: str
) -> list[tuple[bytes | None, CanonicalRecord, dict[str, str]]]:
    """Every record on ``topic`` (key, decoded record, headers), up to the high watermark."""
    found: list[tuple[bytes | None, CanonicalRecord, dict[str, str]]] = []
    assert settings.schema_registry_url is not None
    with RegistryClient(settings.schema_registry_url) as registry:
        codec = CanonicalCodec(registry)

        def visit(record: Any) -> None:
            ctx = SerializationContext(topic, partition=record.partition, offset=record.offset)
            headers = {k: bytes(v).decode() for k, v in record.headers or ()}
            found.append((record.key, codec.decode(record.value, ctx), headers))

        scan_topic(settings, topic, visit)
    return found


def client_for(settings: HubSettings, partner_id: str, **kwargs: Any) -> PartnerClient:
    return PartnerClient(settings, partner_id, **kwargs)
