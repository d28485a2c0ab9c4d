"""A throwaway PostgreSQL for the session, and a fresh database per test.

PostgreSQL is started once per session from the server binaries (``initdb``,
``pg_ctl``) on a free loopback port in a temporary directory, and stopped at the end.
Missing binaries FAIL the tests (they are never skipped): install the Debian package
``postgresql`` or point ``HUB_TEST_PG_BIN`` at the directory holding ``pg_ctl``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

__all__ = ["PostgresServer"]

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
