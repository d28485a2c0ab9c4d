"""Broker fixtures: one real broker per test session, factories for topics and groups.

By default the session starts the hub's own broker over a real loopback socket: Apache
Kafka where Java 17+ is present, else Tansu; ``HUB_EMBEDDED_BROKER`` picks one, and
``HUB_BOOTSTRAP_SERVERS`` runs the same suite against any other Kafka cluster. A test
that uses these fixtures is an integration test (marked so by tests/conftest.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka.admin import NewTopic

from hub.broker import broker_for, choose_broker
from hub.config import HubSettings, load_settings
from hub.kafka import admin_client, create_topics


def pytest_report_header(config: pytest.Config) -> str:
    settings = load_settings()
    if settings.bootstrap_servers:
        return f"broker: the cluster at {settings.bootstrap_servers} (HUB_BOOTSTRAP_SERVERS)"
    return f"broker: {choose_broker(settings).describe()}"


@pytest.fixture(scope="session")
def hub_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubSettings]:
    """Settings bound to the session's running broker."""
    data_dir: Path = tmp_path_factory.mktemp("hub-data")
    with broker_for(load_settings(data_dir=data_dir)) as settings:
        yield settings


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Names unique to this test (topics, consumer groups), readable in broker listings."""
    test = request.node.name.replace("[", "-").replace("]", "")[:40]

    def make(kind: str) -> str:
        return f"test-{kind}-{test}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def topic_factory(
    hub_settings: HubSettings, unique_name: Callable[[str], str]
) -> Iterator[Callable[..., str]]:
    """Create a fresh topic on the session broker; deleted after the test."""
    admin = admin_client(hub_settings)
    created: list[str] = []

    def make(partitions: int = 1) -> str:
        name = unique_name("topic")
        create_topics(admin, [NewTopic(name, partitions, 1)])
        created.append(name)
        return name

    yield make
    if created:
        admin.delete_topics(created)
    admin.close()
