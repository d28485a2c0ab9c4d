"""The consent store on PostgreSQL (production), with psycopg 3."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import psycopg

from consent.errors import ConsentStoreError
from consent.store.sql import SqlConsentStore

__all__ = ["PostgresConsentStore"]

_MIGRATION_LOCK = 0x726D7468  # pg_advisory_xact_lock key of the migrations ("rmth")
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")


class PostgresConsentStore(SqlConsentStore):
    """``url`` is a libpq URL (``postgresql://user:pw@host:port/db``)."""

    dialect = "postgresql"
    for_update_clause = " FOR UPDATE"

    def __init__(self, url: str, *, connect_timeout_s: int = 10) -> None:
        super().__init__()
        self._url = url
        self._connect_timeout_s = connect_timeout_s

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages."""
        return _PASSWORD.sub(r"\1**********@", self._url)

    def __repr__(self) -> str:
        return f"PostgresConsentStore({self.safe_url!r})"

    def _connect(self) -> Any:
        try:
            return psycopg.connect(
                self._url, autocommit=True, connect_timeout=self._connect_timeout_s
            )
        except psycopg.Error as exc:
            raise ConsentStoreError(
                f"postgresql: cannot connect to {self.safe_url}: {exc}"
            ) from exc

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def _lock_for_migrations(self, conn: Any) -> None:
        conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")

    def _lock_subject(self, conn: Any, subject: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (subject,))

    def _is_broken(self, conn: Any) -> bool:
        return bool(conn.closed or conn.broken)

    def _db_error_types(self) -> tuple[type[Exception], ...]:
        return (psycopg.Error,)

    def _integrity_error_types(self) -> tuple[type[Exception], ...]:
        return (psycopg.IntegrityError,)

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def _ts_out(self, value: Any) -> datetime:
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
