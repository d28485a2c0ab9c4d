"""The consent store on SQLite (the embedded default): one file, WAL, full sync."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consent.errors import ConsentStoreError
from consent.store.sql import SqlConsentStore

__all__ = ["SqliteConsentStore"]

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"  # fixed width: text order is time order


class SqliteConsentStore(SqlConsentStore):
    """``path`` is a file (created with its directory) or ``:memory:``."""

    dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = str(path)
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConsentStoreError(f"sqlite: cannot create {self.path}: {exc}") from exc

    def __repr__(self) -> str:
        return f"SqliteConsentStore({self.path!r})"

    def _connect(self) -> Any:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a commit survives a crash right after it
            # a destroyed subject key is overwritten in the file, not just unlinked
            conn.execute("PRAGMA secure_delete=ON")
        except sqlite3.Error as exc:
            raise ConsentStoreError(f"sqlite: cannot open {self.path}: {exc}") from exc
        return conn

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlocks

    def _lock_for_migrations(self, conn: Any) -> None:
        """BEGIN IMMEDIATE already keeps every other writer out."""

    def _scrub(self, conn: Any) -> None:
        # the write-ahead log still holds the pages as they were before the overwrite:
        # checkpoint it into the file (secure_delete zeroes what was freed) and empty it
        if self.path != ":memory:":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _is_broken(self, conn: Any) -> bool:
        return False

    def _db_error_types(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error,)

    def _integrity_error_types(self) -> tuple[type[Exception], ...]:
        return (sqlite3.IntegrityError,)

    def _ts_in(self, value: datetime | None) -> Any:
        return None if value is None else value.astimezone(UTC).strftime(_TS_FORMAT)

    def _ts_out(self, value: Any) -> datetime:
        return datetime.fromisoformat(str(value))
