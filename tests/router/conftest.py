"""Fixtures of the router tests: a schema registry on the session broker, and a hub (own
topic prefix, every catalogue topic created) per test or module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import HubSettings
from hub.registry.embedded import EmbeddedRegistry
from tests.router.helpers.hubtest import Hub


@pytest.fixture(scope="session")
def registry_url(hub_settings: HubSettings) -> Iterator[str]:
    """One embedded registry for every router test (schemas are the same for all)."""
    settings = hub_settings.model_copy(
        update={"schema_registry_topic": f"_schemas-router-{uuid.uuid4().hex[:8]}"}
    )
    with EmbeddedRegistry(settings, port=0) as registry:
        yield registry.url


def make_hub(settings: HubSettings, registry_url: str, tmp: Path) -> Hub:
    prefix = f"rt{uuid.uuid4().hex[:10]}"
    return Hub(
        settings.model_copy(
            update={
                "topic_prefix": prefix,
                "schema_registry_url": registry_url,
                "schema_registry_topic": f"_schemas-{prefix}",
                "data_dir": tmp,
            }
        ),
        tmp,
    )


@pytest.fixture
def hub(hub_settings: HubSettings, registry_url: str, tmp_path: Path) -> Iterator[Hub]:
    """A hub with its own topics, for one test."""
    made = make_hub(hub_settings, registry_url, tmp_path)
    try:
        yield made
    finally:
        made.close()
