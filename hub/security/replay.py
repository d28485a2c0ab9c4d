"""The replay guard: event ids accepted recently, per topic partition, bounded in time.

**Scope.** Ids are remembered per (topic, partition). That suffices because a record
signature binds the topic and the record key, and the router refuses a record that is
not in the partition its key hashes to (PARTITION_MISMATCH): a valid copy of a record
can only reappear in the same partition of the same topic. The guard of a partition
therefore lives with the router worker that owns the partition, and is rebuilt when
the partition is (re)assigned.

**Redelivery is not replay.** A consumer that restarts re-reads records after its last
committed offset. The guard remembers the offset at which it accepted each id; the same
id at the *same* offset is a :attr:`ReplayResult.REDELIVERY` (handle idempotently), at
another offset a :attr:`ReplayResult.REPLAYED`.

**Bounded.** An id is kept for ``window`` after its signing time (default 7 days, the
outbox retention). A record signed before the window cannot be proven new and is
:attr:`ReplayResult.STALE` (dead-lettered as REPLAYED). When more than ``max_entries``
ids are held, the oldest are dropped and the *floor* rises to their signing time:
anything signed at or before the floor is STALE too, so dropping never lets a replay
through.

**Persisted / rebuildable.** With ``path`` the guard keeps a SQLite file: pending
entries are written by :meth:`ReplayGuard.flush`, which the router calls right before
it commits its consumer offsets (so the file never lags the offsets it covers). If the
file is lost, rebuild it: read the partition from its beginning (or from
``offsets_for_times(now - window)``) up to the committed offset and pass each record
through :meth:`hub.security.signing.RecordVerifier.verify` with this guard, discarding
the verdicts; the guard's content is a pure function of the partition's log, so the
rebuilt guard equals the lost one.
"""

from __future__ import annotations

import contextlib
import heapq
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from pathlib import Path

from hub.security.errors import SecurityError

__all__ = ["ReplayGuard", "ReplayResult"]

_Key = tuple[str, int, str]


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
    ) -> None:
        if window.total_seconds() <= 0 or max_entries < 1:
            raise ValueError("the replay window and max_entries must be positive")
        self.window_ms = int(window.total_seconds() * 1000)
        self.max_entries = max_entries
        self._clock = clock
        self._seen: dict[_Key, tuple[int, int]] = {}
        self._heap: list[tuple[int, _Key]] = []
        self._floor_ms = -1
        self._pending: list[tuple[_Key, int, int]] = []
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._open(path)

    def __len__(self) -> int:
        return len(self._seen)

    @property
    def floor_ms(self) -> int:
        """Records signed at or before this time are STALE (-1: no floor yet)."""
        return self._floor_ms

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

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
            seen = self._seen.get((topic, partition, event_id))
            if seen is not None:
                return ReplayResult.REDELIVERY if seen[1] == offset else ReplayResult.REPLAYED
            if signed_at_ms < now - self.window_ms or signed_at_ms <= self._floor_ms:
                return ReplayResult.STALE
            return ReplayResult.FRESH

    def remember(
        self, topic: str, partition: int, event_id: str, *, signed_at_ms: int, offset: int
    ) -> None:
        """Record an accepted event id at ``offset``."""
        key = (topic, partition, event_id)
        with self._lock:
            self._seen[key] = (signed_at_ms, offset)
            heapq.heappush(self._heap, (signed_at_ms, key))
            if self._db is not None:
                self._pending.append((key, signed_at_ms, offset))
            self._evict(self._now_ms())

    def _evict(self, now_ms: int) -> None:
        cutoff = now_ms - self.window_ms
        while self._heap and (self._heap[0][0] < cutoff or len(self._seen) > self.max_entries):
            signed_at_ms, key = heapq.heappop(self._heap)
            current = self._seen.get(key)
            if current is None or current[0] != signed_at_ms:
                continue  # forgotten, or superseded
            del self._seen[key]
            if signed_at_ms >= cutoff:  # dropped for space, not for age: raise the floor
                self._floor_ms = max(self._floor_ms, signed_at_ms)

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop what is held for a partition (it was revoked from this worker)."""
        with self._lock:
            for key in [k for k in self._seen if k[0] == topic and k[1] == partition]:
                del self._seen[key]
            self._pending = [p for p in self._pending if p[0][:2] != (topic, partition)]

    # --- persistence -------------------------------------------------------------------------

    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute(
                "CREATE TABLE IF NOT EXISTS seen (topic TEXT NOT NULL, partition INTEGER NOT "
                "NULL, event_id TEXT NOT NULL, signed_at_ms INTEGER NOT NULL, offset INTEGER "
                "NOT NULL, PRIMARY KEY (topic, partition, event_id)) WITHOUT ROWID"
            )
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER)")
            cutoff = self._now_ms() - self.window_ms
            rows = db.execute(
                "SELECT topic, partition, event_id, signed_at_ms, offset FROM seen "
                "WHERE signed_at_ms >= ?",
                (cutoff,),
            ).fetchall()
            floor = db.execute("SELECT value FROM meta WHERE name = 'floor_ms'").fetchone()
        except sqlite3.Error as exc:
            raise SecurityError(f"replay guard {path}: {exc}") from exc
        self._db = db
        for topic, partition, event_id, signed_at_ms, offset in rows:
            key = (str(topic), int(partition), str(event_id))
            self._seen[key] = (int(signed_at_ms), int(offset))
            self._heap.append((int(signed_at_ms), key))
        heapq.heapify(self._heap)
        if floor is not None:
            self._floor_ms = int(floor[0])
        self._evict(self._now_ms())

    def flush(self) -> int:
        """Write the pending entries (call right before committing consumer offsets)."""
        if self._db is None:
            return 0
        with self._lock:
            pending, self._pending = self._pending, []
            floor = self._floor_ms
        cutoff = self._now_ms() - self.window_ms
        try:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?, ?)",
                [(k[0], k[1], k[2], signed, offset) for k, signed, offset in pending],
            )
            self._db.execute("DELETE FROM seen WHERE signed_at_ms < ?", (cutoff,))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('floor_ms', ?)", (floor,))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            with self._lock:
                self._pending = pending + self._pending
            raise SecurityError(f"replay guard: cannot persist: {exc}") from exc
        return len(pending)

    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None
