"""Fixtures of the connector tests: isolated hubs per test.

``hub_env()`` gives settings with a topic prefix and a small partner directory of their
own (one partner of every kind), the catalogue applied on the session's broker and the
session's registry (tests/plugins/registry.py), so tests never share topics or consumer
groups. With record security on (the default) its key store holds the hub's and every
partner's keys, as ``rmt-hub up`` makes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from kafka.errors import KafkaError

from hub.config import HubSettings
from hub.kafka import admin_client
from tests.helpers.connectors import isolated_hub


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
        settings, topics = isolated_hub(hub_settings, registry_url, home, prefix)
        created.extend(topics)
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
