"""The session's schema registry: one embedded registry on the session broker for every
test that asks for ``registry_url`` (the schemas are the same for all)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from hub.config import HubSettings
from hub.registry.embedded import EmbeddedRegistry


@pytest.fixture(scope="session")
def registry_url(hub_settings: HubSettings) -> Iterator[str]:
    """The URL of an embedded schema registry with a schema topic of its own."""
    settings = hub_settings.model_copy(
        update={"schema_registry_topic": f"_schemas-tests-{uuid.uuid4().hex[:8]}"}
    )
    with EmbeddedRegistry(settings, port=0) as registry:
        yield registry.url
