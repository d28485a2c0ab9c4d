"""Fixtures of the consent tests: a throwaway PostgreSQL, stores on both databases,
settings bound to the session broker, and the consent service over real HTTP.

PostgreSQL is started once per session from the server binaries (``initdb``,
``pg_ctl``) on a free loopback port in a temporary directory, and stopped at the end.
Missing binaries FAIL the tests (they are never skipped): install the Debian package
``postgresql`` or point ``HUB_TEST_PG_BIN`` at the directory holding ``pg_ctl``.
"""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from consent.api import issue_key
from consent.model import Role
from consent.runtime import ConsentRuntime
from consent.store import ConsentStore, open_store
from hub.config import HubSettings
from hub.http import HttpServer
from hub.kafka import admin_client

DATABASES = ("sqlite", "postgresql")
PG_USER = "postgres"


def _pg_bin() -> Path:
    configured = os.environ.get("HUB_TEST_PG_BIN")
    candidates: list[Path] = [Path(configured)] if configured else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: the consent store tests run "
        "against SQLite AND PostgreSQL. Install them (Debian: apt-get install postgresql) "
        "or set HUB_TEST_PG_BIN to the directory holding pg_ctl.",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running throwaway PostgreSQL; ``database()`` makes a fresh database."""

    port: int
    root: Path
    databases: list[str] = field(default_factory=list)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"consent_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL for the whole session (initdb + pg_ctl; as user postgres when root)."""
    bin_dir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="rmt-consent-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(PG_USER)
        except KeyError:
            pytest.fail(
                f"running as root, PostgreSQL needs the system user '{PG_USER}' "
                "(created by the Debian postgresql packages)",
                pytrace=False,
            )
        os.chown(root, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", PG_USER, "--"]
    data = root / "data"
    log = root / "server.log"
    port = _free_port()
    subprocess.run(
        [
            *prefix,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            PG_USER,
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    started = subprocess.run(
        [
            *prefix,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else started.stderr
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {detail[-2000:]}", pytrace=False)
    try:
        yield PostgresServer(port=port, root=root)
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


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


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def consent_settings(base: HubSettings, database_url: str, data_dir: Path) -> HubSettings:
    """Settings on the session broker with this database and a topic prefix of their own."""
    return base.model_copy(
        update={
            "database_url": database_url,
            "data_dir": data_dir,
            "topic_prefix": f"t{uuid.uuid4().hex[:10]}",
            "topic_partitions": 2,
        }
    )


def delete_topic(settings: HubSettings, topic: str) -> None:
    admin = admin_client(settings)
    try:
        admin.delete_topics([topic])
    except Exception:
        pass
    finally:
        admin.close()


@dataclass
class ConsentApi:
    """The consent service running over HTTP, with a key for each kind of caller."""

    runtime: ConsentRuntime
    url: str
    keys: dict[str, str]
    database: str

    def client(self, who: str) -> httpx.Client:
        headers = {"X-API-Key": self.keys[who]} if who in self.keys else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def running_consent_api(settings: HubSettings, database: str) -> Iterator[ConsentApi]:
    """The consent service on ``settings`` over HTTP (port 0), with a key per kind of caller;
    stopped, and its change topic deleted, on exit."""
    runtime = ConsentRuntime(settings)
    keys = {
        "officer": issue_key(runtime.store, Role.PRIVACY_OFFICER, "officer-1")[1],
        "uwv": issue_key(runtime.store, Role.PARTNER, "uwv-system", "uwv")[1],
        "amsterdam": issue_key(runtime.store, Role.PARTNER, "adam", "gemeente-amsterdam")[1],
        "sbb": issue_key(runtime.store, Role.PARTNER, "sbb-system", "sbb")[1],
        "monitor": issue_key(runtime.store, Role.MONITOR, "monitor-1")[1],
    }
    runtime.start()
    http = HttpServer(runtime.app, name="consent-test", trusted_proxies=settings.trusted_proxy_list)
    try:
        base = http.start()
        yield ConsentApi(runtime, base, keys, database)
    finally:
        http.stop()
        runtime.stop()
        delete_topic(settings, runtime.topic)
        if runtime.ingester is not None:
            delete_topic(settings, runtime.ingester.topic)


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
