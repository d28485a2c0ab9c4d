"""Fixtures of the consent tests: stores on both databases and the consent service over
real HTTP (PostgreSQL comes from tests/plugins/postgres.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent.store import ConsentStore, open_store
from hub.config import HubSettings
from tests.helpers.consent import ConsentApi, consent_settings, running_consent_api
from tests.plugins.postgres import PostgresServer

DATABASES = ("sqlite", "postgresql")


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty consent database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'consent.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[ConsentStore]:
    """A migrated store on each database."""
    opened = open_store(database_url)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture(scope="module", params=DATABASES)
def consent_api(
    request: pytest.FixtureRequest,
    hub_settings: HubSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConsentApi]:
    """The service over HTTP on each database (one per module; tests use own subjects)."""
    data_dir = tmp_path_factory.mktemp("consent-api")
    server: PostgresServer | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'consent.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
    try:
        with running_consent_api(
            consent_settings(hub_settings, url, data_dir), request.param
        ) as api:
            yield api
    finally:
        if server is not None:
            server.drop_database(url)


@pytest.fixture(scope="module")
def sqlite_consent_api(
    hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsentApi]:
    """The service over HTTP on SQLite only (for tests of what does not touch SQL)."""
    data_dir = tmp_path_factory.mktemp("consent-api")
    url = f"sqlite:///{data_dir / 'consent.db'}"
    with running_consent_api(consent_settings(hub_settings, url, data_dir), "sqlite") as api:
        yield api


@pytest.fixture
def subject() -> str:
    """A fresh client pseudonym."""
    return f"client-{uuid.uuid4().hex[:12]}"
