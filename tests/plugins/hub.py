"""A hub on the session broker: its own topic prefix, every catalogue topic created
(:class:`tests.router.helpers.hubtest.Hub`). ``make_hub`` is the factory; the ``hub``
fixture gives one per test and closes it after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import HubSettings
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


@pytest.fixture
def hub(hub_settings: HubSettings, registry_url: str, tmp_path: Path) -> Iterator[Hub]:
    """A hub with its own topics, for one test."""
    made = make_hub(hub_settings, registry_url, tmp_path)
    try:
        yield made
    finally:
        made.close()
