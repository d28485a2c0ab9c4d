"""A hub on the session broker: its own topic prefix, every catalogue topic created
(:class:`tests.router.helpers.hubtest.Hub`). ``make_hub`` is the factory on the session's
registry; the ``hub`` fixture gives one per test and closes it after. ``own_hub`` also
starts a schema registry of the hub's own, for module-scoped hubs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.config import HubSettings
from hub.registry.embedded import EmbeddedRegistry
from tests.router.helpers.hubtest import Hub


def make_hub(settings: HubSettings, registry_url: str, tmp: Path) -> Hub:
    """A hub with a fresh topic prefix and schema topic, its data under ``tmp``."""
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


@contextmanager
def own_hub(settings: HubSettings, tmp: Path, tag: str, **updates: Any) -> Iterator[Hub]:
    """A hub with topic prefix ``tag`` + a random suffix, ``updates`` applied to its
    settings, and a schema registry of its own; closed, registry stopped, on exit."""
    prefix = f"{tag}{uuid.uuid4().hex[:10]}"
    base = settings.model_copy(
        update={"topic_prefix": prefix, "schema_registry_topic": f"_schemas-{prefix}", **updates}
    )
    with EmbeddedRegistry(base, port=0) as registry:
        made = Hub(
            base.model_copy(update={"schema_registry_url": registry.url, "data_dir": tmp}), tmp
        )
        try:
            yield made
        finally:
            made.close()


@pytest.fixture
def hub(hub_settings: HubSettings, registry_url: str, tmp_path: Path) -> Iterator[Hub]:
    """A hub with its own topics, for one test."""
    made = make_hub(hub_settings, registry_url, tmp_path)
    try:
        yield made
    finally:
        made.close()
