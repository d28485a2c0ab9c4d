"""Key stores with a few identities, and record builders for the security tests
(the partner ids and header builder are in tests/helpers/security.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.security.keys import KeyStore
from schemas.regions import Region
from schemas.vocabulary import PartnerKind
from tests.helpers.security import AMSTERDAM, HUB, UTRECHT, UWV, Headers, make_headers


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
