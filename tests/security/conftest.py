"""Key stores with a few identities, and record builders for the security tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.config import HubSettings
from hub.registry.embedded import EmbeddedRegistry
from hub.security.keys import KeyStore
from hub.serde.cloudevents import ce_headers
from schemas.regions import Region
from schemas.vocabulary import PartnerKind
from tests.router.helpers.hubtest import Hub

UWV = "uwv"
AMSTERDAM = "gemeente-amsterdam"
UTRECHT = "gemeente-utrecht"
HUB = "hub"

Headers = list[tuple[str, bytes]]


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    """A key store holding the hub, UWV and two municipalities."""
    keys = KeyStore(tmp_path / "keys")
    keys.new(HUB)
    keys.new(UWV, kind=PartnerKind.UWV)
    keys.new(AMSTERDAM, kind=PartnerKind.GEMEENTE, region=Region.GROOT_AMSTERDAM)
    keys.new(UTRECHT, kind=PartnerKind.GEMEENTE, region=Region.MIDDEN_UTRECHT)
    return keys


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


@pytest.fixture
def headers_for() -> Callable[..., Headers]:
    return make_headers


@pytest.fixture(scope="module")
def hub(hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub of its own (topics, key store, subject keys) with one router worker."""
    prefix = f"sec{uuid.uuid4().hex[:10]}"
    tmp: Path = tmp_path_factory.mktemp("router-security")
    base = hub_settings.model_copy(
        update={"topic_prefix": prefix, "schema_registry_topic": f"_schemas-{prefix}"}
    )
    with EmbeddedRegistry(base, port=0) as registry:
        made = Hub(
            base.model_copy(update={"schema_registry_url": registry.url, "data_dir": tmp}), tmp
        )
        try:
            assert made.security, "record security is on by default"
            made.worker().wait_ready(60, partitions=made.settings.topic_partitions)
            yield made
        finally:
            made.close()
