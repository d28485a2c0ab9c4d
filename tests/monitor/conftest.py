"""Fixtures of the monitor tests: a schema registry per session, a monitor topic per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.config import HubSettings
from hub.monitor.topic import MonitorCodec
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry
from tests.helpers.monitor import drop_topics, make_monitor_env


@pytest.fixture(scope="session")
def monitor_registry_url(hub_settings: HubSettings) -> Iterator[str]:
    """An embedded schema registry for the monitor tests, on a free port."""
    settings = hub_settings.model_copy(
        update={"schema_registry_topic": f"_schemas-monitor-{uuid.uuid4().hex[:8]}"}
    )
    with EmbeddedRegistry(settings, port=0) as registry:
        yield registry.url


@pytest.fixture(scope="session")
def monitor_codec(monitor_registry_url: str) -> Iterator[MonitorCodec]:
    with RegistryClient(monitor_registry_url) as client:
        yield MonitorCodec(client)


@pytest.fixture
def monitor_env(
    hub_settings: HubSettings, monitor_registry_url: str, tmp_path: Path
) -> Iterator[Callable[[], HubSettings]]:
    """Make isolated monitor settings; their topics are deleted after the test."""
    made: list[HubSettings] = []

    def make() -> HubSettings:
        settings = make_monitor_env(hub_settings, monitor_registry_url, tmp_path)
        made.append(settings)
        return settings

    yield make
    for settings in made:
        drop_topics(settings)
