"""The replay guard: event ids accepted recently, per topic partition, bounded in time.

**Scope.** Ids are remembered per (topic, partition). The router passes the partition
the record *key hashes to* (murmur2), whichever partition the record was published to,
and as its offset the :func:`position` of where it was published (partition and offset
in one number): a record signature binds the topic and the record key, so a valid copy
of a record, published to any partition of the same topic, meets the same guard
(docs/decisions/0015-partition-agnostic-inbound.md). The guard of a partition therefore
lives with the router worker that owns the partition, and is rebuilt when the partition
is (re)assigned.

**Redelivery is not replay.** A consumer that restarts re-reads records after its last
committed offset. The guard remembers the offset (or position) at which it accepted
each id; the same id at the *same* offset is a :attr:`ReplayResult.REDELIVERY` (handle
idempotently), at another offset a :attr:`ReplayResult.REPLAYED`.

**Bounded.** An id is kept for ``window`` after its signing time (default 7 days, the
outbox retention). A record signed before the window cannot be proven new and is
:attr:`ReplayResult.STALE` (dead-lettered as REPLAYED). When more than ``max_entries``
ids are held, the oldest are dropped and the *floor* rises to their signing time:
anything signed at or before the floor is STALE too, so dropping never lets a replay
through.

**On disk, not in memory.** The ids are kept in a SQLite database (:mod:`hub.scratch`):
a bounded page cache in memory, the rest on disk, so a worker's memory does not grow
with the records it has seen. Without ``path`` it is a private temporary file, gone with
the process.

**Persisted / rebuildable.** With ``path`` the file stays: entries are committed by
:meth:`ReplayGuard.flush`, which the router calls right before it commits its consumer
offsets (so the file never lags the offsets it covers). If the file is lost, rebuild it:
read the partition from its beginning (or from ``offsets_for_times(now - window)``) up to
the committed offset and pass each record through
:meth:`hub.security.signing.RecordVerifier.verify` with this guard, discarding the
verdicts; the guard's content is a pure function of the partition's log, so the rebuilt
guard equals the lost one.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from pathlib import Path

from hub.scratch import ScratchError, scratch_db
from hub.security.errors import SecurityError

__all__ = ["ReplayGuard", "ReplayResult", "position"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS seen (topic TEXT NOT NULL, partition INTEGER NOT NULL, "
    "event_id TEXT NOT NULL, signed_at_ms INTEGER NOT NULL, offset INTEGER NOT NULL, "
    "PRIMARY KEY (topic, partition, event_id)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS seen_by_age ON seen (signed_at_ms)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER)",
)


_OFFSET_BITS = 42


def position(partition: int, offset: int) -> int:
    """Where a record is in its topic, as one number (for :meth:`ReplayGuard.check`'s
    ``offset`` when the guard's partition is not the one the record was read from):
    offsets below 2**42 (4.4 trillion records per partition), partitions below 2**21."""
    if not 0 <= offset < 1 << _OFFSET_BITS or not 0 <= partition < 1 << 21:
        raise ValueError(f"no position for partition {partition}, offset {offset}")
    return partition << _OFFSET_BITS | offset


class ReplayResult(Enum):
    FRESH = "fresh"  # never seen: accept (and remember)
    REDELIVERY = "redelivery"  # accepted before at this same offset
    REPLAYED = "replayed"  # accepted before at another offset
    STALE = "stale"  # signed before the window (or the floor): cannot be proven new


class ReplayGuard:
    """Recently accepted event ids per (topic, partition); see the module docs."""

    def __init__(
        self,
        window: timedelta = timedelta(days=7),
        *,
        max_entries: int = 1_000_000,
        path: Path | None = None,
        clock: Callable[[], float] = time.time,
        cache_kib: int = 4096,
    ) -> None:
        if window.total_seconds() <= 0 or max_entries < 1:
            raise ValueError("the replay window and max_entries must be positive")
        self.window_ms = int(window.total_seconds() * 1000)
        self.max_entries = max_entries
        self._clock = clock
        self._path = path
        self._floor_ms = -1
        self._count = 0
        self._oldest_ms: int | None = None
        self._pending = 0
        self._in_transaction = False
        self._lock = threading.Lock()
        where = path or "a temporary file"
        try:
            self._db: sqlite3.Connection | None = scratch_db(path, cache_kib=cache_kib)
            for statement in _SCHEMA:
                self._db.execute(statement)
            floor = self._db.execute("SELECT value FROM meta WHERE name = 'floor_ms'").fetchone()
            (self._count,) = self._db.execute("SELECT COUNT(*) FROM seen").fetchone()
            (self._oldest_ms,) = self._db.execute("SELECT MIN(signed_at_ms) FROM seen").fetchone()
        except (sqlite3.Error, ScratchError) as exc:
            raise SecurityError(f"replay guard {where}: {exc}") from exc
        if floor is not None:
            self._floor_ms = int(floor[0])
        with self._lock:
            self._evict(self._now_ms())

    def __len__(self) -> int:
        return self._count

    @property
    def floor_ms(self) -> int:
        """Records signed at or before this time are STALE (-1: no floor yet)."""
        return self._floor_ms

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _sql(self, statement: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        if self._db is None:
            raise SecurityError("replay guard: used after close()")
        try:
            return self._db.execute(statement, args)
        except sqlite3.Error as exc:
            raise SecurityError(f"replay guard: {exc}") from exc

    def check(
        self,
        topic: str,
        partition: int,
        event_id: str,
        *,
        signed_at_ms: int,
        offset: int,
        now_ms: int | None = None,
    ) -> ReplayResult:
        """Classify an (already signature-verified) record; does not remember it."""
        now = self._now_ms() if now_ms is None else now_ms
        with self._lock:
            seen = self._sql(
                "SELECT offset FROM seen WHERE topic = ? AND partition = ? AND event_id = ?",
                (topic, partition, event_id),
            ).fetchone()
            if seen is not None:
                return ReplayResult.REDELIVERY if seen[0] == offset else ReplayResult.REPLAYED
            if signed_at_ms < now - self.window_ms or signed_at_ms <= self._floor_ms:
                return ReplayResult.STALE
            return ReplayResult.FRESH

    def remember(
        self, topic: str, partition: int, event_id: str, *, signed_at_ms: int, offset: int
    ) -> None:
        """Record an accepted event id at ``offset``."""
        key = (topic, partition, event_id)
        with self._lock:
            if self._path is not None and not self._in_transaction:
                self._sql("BEGIN")  # committed by flush()
                self._in_transaction = True
            added = self._sql(
                "INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?, ?)", (*key, signed_at_ms, offset)
            ).rowcount
            if added:
                self._count += 1
            else:
                self._sql(
                    "UPDATE seen SET signed_at_ms = ?, offset = ? "
                    "WHERE topic = ? AND partition = ? AND event_id = ?",
                    (signed_at_ms, offset, *key),
                )
            self._pending += 1
            if self._oldest_ms is None or signed_at_ms < self._oldest_ms:
                self._oldest_ms = signed_at_ms
            self._evict(self._now_ms())

    def _evict(self, now_ms: int) -> None:
        """Drop ids older than the window, then the oldest beyond ``max_entries`` (raising
        the floor to their signing time: anything signed at or before it is STALE)."""
        cutoff = now_ms - self.window_ms
        if self._oldest_ms is not None and self._oldest_ms < cutoff:
            self._count -= self._sql("DELETE FROM seen WHERE signed_at_ms < ?", (cutoff,)).rowcount
            self._oldest_ms = self._oldest()
        excess = self._count - self.max_entries
        if excess > 0:
            (limit,) = self._sql(
                "SELECT signed_at_ms FROM seen ORDER BY signed_at_ms LIMIT 1 OFFSET ?",
                (excess - 1,),
            ).fetchone()
            self._count -= self._sql("DELETE FROM seen WHERE signed_at_ms <= ?", (limit,)).rowcount
            self._floor_ms = max(self._floor_ms, int(limit))
            self._oldest_ms = self._oldest()

    def _oldest(self) -> int | None:
        (oldest,) = self._sql("SELECT MIN(signed_at_ms) FROM seen").fetchone()
        return None if oldest is None else int(oldest)

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop what is held for a partition (it was revoked from this worker)."""
        with self._lock:
            self._count -= self._sql(
                "DELETE FROM seen WHERE topic = ? AND partition = ?", (topic, partition)
            ).rowcount
            self._oldest_ms = self._oldest()

    def entries(self) -> list[tuple[str, int, str, int, int]]:
        """Every id held, as (topic, partition, event id, signed at, offset), sorted."""
        with self._lock:
            rows = self._sql("SELECT * FROM seen ORDER BY topic, partition, event_id").fetchall()
        return [(str(t), int(p), str(e), int(s), int(o)) for t, p, e, s, o in rows]

    # --- persistence -------------------------------------------------------------------------

    def flush(self) -> int:
        """Commit what was remembered since the last flush (with ``path``: call right
        before committing consumer offsets); returns how many entries that was."""
        with self._lock:
            pending, self._pending = self._pending, 0
            if self._path is None:
                return pending
            try:
                if not self._in_transaction:
                    self._sql("BEGIN")
                self._in_transaction = True
                self._sql("INSERT OR REPLACE INTO meta VALUES ('floor_ms', ?)", (self._floor_ms,))
                self._sql("COMMIT")
            except SecurityError as exc:
                with contextlib.suppress(SecurityError):
                    self._sql("ROLLBACK")
                    (self._count,) = self._sql("SELECT COUNT(*) FROM seen").fetchone()
                    self._oldest_ms = self._oldest()
                raise SecurityError(f"replay guard: cannot persist: {exc}") from exc
            finally:
                self._in_transaction = False
        return pending

    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None
