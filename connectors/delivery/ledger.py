"""The delivery ledger: which event ids a sink has delivered, kept in SQLite in data_dir.

Consumer-group offsets say where to resume; the ledger says what must not be delivered
again when a restart re-reads records between the last commit and the crash (and when
the hub publishes the same event twice). File drops write ahead: the event ids of a file
are recorded as *pending* before the file is renamed into place and marked *done* after,
so after a crash the file drop (``FileDrop.recover``) can tell whether the rename
happened (the part file is gone) or not (it is still there), and the ledger stays exact
even if the partner has already picked the file up.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from connectors.common.errors import ConnectorError

__all__ = ["DeliveryLedger", "LedgerError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivered (
    event_id TEXT PRIMARY KEY,
    outcome  TEXT NOT NULL,          -- delivered | dead-lettered
    file     TEXT,                   -- the file drop's file, if any
    at       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    name  TEXT PRIMARY KEY,
    state TEXT NOT NULL,             -- pending | done
    at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS delivered_file ON delivered(file);
"""


class LedgerError(ConnectorError):
    """The delivery ledger cannot be read or written."""


class DeliveryLedger:
    """Delivered event ids of one partner's sink; thread-safe; close it."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"delivery ledger {path}: {exc}") from exc

    def _run(self, action: str, statements: Callable[[sqlite3.Connection], object]) -> object:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    result = statements(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return result
            except sqlite3.Error as exc:
                raise LedgerError(f"delivery ledger {self.path}: {action}: {exc}") from exc

    def seen(self, event_id: str) -> bool:
        """True when ``event_id`` was delivered (or dead-lettered) before."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM delivered WHERE event_id = ? AND (file IS NULL OR file IN "
                "(SELECT name FROM files WHERE state = 'done'))",
                (event_id,),
            ).fetchone()
        return row is not None

    def mark(self, event_ids: Iterable[str], outcome: str = "delivered") -> None:
        """Record ``event_ids`` as handled (a webhook POST succeeded, or dead-lettered)."""
        now = self._clock()
        rows = [(e, outcome, now) for e in event_ids]
        self._run(
            "mark",
            lambda db: db.executemany(
                "INSERT OR IGNORE INTO delivered (event_id, outcome, file, at) "
                "VALUES (?, ?, NULL, ?)",
                rows,
            ),
        )

    def begin_file(self, name: str, event_ids: Iterable[str]) -> None:
        """Before renaming ``name`` into place: its event ids, pending."""
        now = self._clock()
        rows = [(e, name, now) for e in event_ids]

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO files (name, state, at) VALUES (?, 'pending', ?)",
                (name, now),
            )
            db.executemany(
                "INSERT OR IGNORE INTO delivered (event_id, outcome, file, at) "
                "VALUES (?, 'delivered', ?, ?)",
                rows,
            )

        self._run("begin file", write)

    def complete_file(self, name: str) -> None:
        """After the rename: the file and its event ids are delivered."""
        self._run(
            "complete file",
            lambda db: db.execute("UPDATE files SET state = 'done' WHERE name = ?", (name,)),
        )

    def abandon_file(self, name: str) -> None:
        """The rename did not happen: forget the file and its event ids."""

        def forget(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM delivered WHERE file = ?", (name,))
            db.execute("DELETE FROM files WHERE name = ?", (name,))

        self._run("abandon file", forget)

    def pending_files(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT name FROM files WHERE state = 'pending'").fetchall()
        return [str(r[0]) for r in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM delivered").fetchone()[0])

    def prune(self, older_than_s: float) -> int:
        """Forget entries older than ``older_than_s`` (past the inbox's retention)."""
        cutoff = self._clock() - older_than_s

        def delete(db: sqlite3.Connection) -> int:
            gone = db.execute("DELETE FROM delivered WHERE at < ?", (cutoff,)).rowcount
            db.execute("DELETE FROM files WHERE at < ? AND state = 'done'", (cutoff,))
            return int(gone)

        result = self._run("prune", delete)
        assert isinstance(result, int)
        return result

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> DeliveryLedger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
