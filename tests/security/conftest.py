"""Key stores with a few identities, record builders and a module's own hub for the
security tests (the partner ids and header builder are in tests/helpers/security.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.config import HubSettings
from hub.security.keys import KeyStore
from schemas.regions import Region
from schemas.vocabulary import PartnerKind
from tests.helpers.security import AMSTERDAM, HUB, UTRECHT, UWV, Headers, make_headers
from tests.plugins.hub import own_hub
from tests.router.helpers.hubtest import Hub


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    """A key store holding the hub, UWV and two municipalities."""
    keys = KeyStore(tmp_path / "keys")
    keys.new(HUB)
    keys.new(UWV, kind=PartnerKind.UWV)
    keys.new(AMSTERDAM, kind=PartnerKind.GEMEENTE, region=Region.GROOT_AMSTERDAM)
    keys.new(UTRECHT, kind=PartnerKind.GEMEENTE, region=Region.MIDDEN_UTRECHT)
    return keys


@pytest.fixture
def headers_for() -> Callable[..., Headers]:
    return make_headers


@pytest.fixture(scope="module")
def hub(hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub of its own (topics, key store, subject keys) with one router worker."""
    with own_hub(hub_settings, tmp_path_factory.mktemp("router-security"), "sec") as made:
        assert made.security, "record security is on by default"
        made.worker().wait_ready(60, partitions=made.settings.topic_partitions)
        yield made
