"""What a partition's outputs already hold: ids, kept on disk so memory stays bounded.

Every write of the router has a deterministic id, and a write whose id is already on its
topic is skipped; that, and the source event ids whose effect is in the routing state,
is how re-reading records after a crash, or a partner publishing a record again, writes
nothing twice. These ids grow with every record routed. :class:`SeenIds` keeps them in a
scratch database (:mod:`hub.scratch`): a page cache of :data:`~hub.scratch.DEFAULT_CACHE_KIB`
per partition in memory, the rest in an unlinked temporary file. Exactly-once is kept for
every id ever seen, not for a window (docs/decisions/0007-on-disk-id-stores.md).

The store is a cache of the topics: the loader fills it when the partition is assigned
(:mod:`hub.router.loader`), and it dies with the partition's state.

Plain Python: no Kafka, no faust.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator

from hub.scratch import DEFAULT_CACHE_KIB, ScratchError, scratch_db

__all__ = ["AppliedIds", "IdSet", "MovedRecords", "SeenIds"]


def _key(item: str) -> bytes:
    """The stored form of an id: its 128-bit BLAKE2b digest (ids are UUIDs and names of
    50-90 characters; the digest keeps the B-trees, and so the cache's reach, 3-4 times
    smaller; a collision is as likely as guessing a random UUID)."""
    return hashlib.blake2b(item.encode("utf-8", "surrogatepass"), digest_size=16).digest()


_TABLES = (
    "CREATE TABLE IF NOT EXISTS written (id BLOB PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS audited (id BLOB PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS applied (id BLOB PRIMARY KEY, partner TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS delivered (id BLOB PRIMARY KEY, disclosure BLOB NOT NULL) "
    "WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS moved (id BLOB PRIMARY KEY, offset INTEGER NOT NULL) WITHOUT ROWID",
)

_SET_SQL = {
    "written": (
        "SELECT 1 FROM written WHERE id = ?",
        "INSERT OR IGNORE INTO written VALUES (?)",
        "DELETE FROM written WHERE id = ?",
    ),
    "audited": (
        "SELECT 1 FROM audited WHERE id = ?",
        "INSERT OR IGNORE INTO audited VALUES (?)",
        "DELETE FROM audited WHERE id = ?",
    ),
}
"""(contains, add, discard) per id set."""


class SeenIds:
    """The ids of one partition: ``written``, ``audited`` and ``applied`` (see the module)."""

    def __init__(self, *, cache_kib: int = DEFAULT_CACHE_KIB) -> None:
        self._cache_kib = cache_kib
        self._db: sqlite3.Connection | None = None
        self._closed = False
        self.written = IdSet(self, "written")
        """Ids already on the inboxes, the dead-letter and the routing-state topic."""
        self.audited = IdSet(self, "audited")
        """Ids of the disclosure events already on the audit topic."""
        self.applied = AppliedIds(self)
        """Source event ids whose effect on the subject state is in the routing-state
        topic, with the partner whose outbox published each (None: a snapshot from before
        that was recorded)."""
        self.moved = MovedRecords(self)
        """Where on the repartition topic each moved outbox record first is."""

    def run(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        """Execute one statement (the database is opened on first use)."""
        if self._closed:
            raise ScratchError("the router's id store is closed (its partition was let go)")
        try:
            if self._db is None:
                db = scratch_db(cache_kib=self._cache_kib)
                for statement in _TABLES:
                    db.execute(statement)
                self._db = db
            return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise ScratchError(f"the router's id store: {exc}") from exc

    def close(self) -> None:
        """Close (and so delete) the store; the ids are gone, and using it raises."""
        self._closed = True
        if self._db is not None:
            self._db.close()
            self._db = None
        self.written.count = self.audited.count = self.applied.count = self.moved.count = 0

    # --- deliveries found in the inboxes while loading ---------------------------------------

    def stage_delivery(self, event_id: str, disclosure: bytes) -> None:
        """Keep the disclosure header of a delivery read from an inbox until the audit
        topic is read too (:meth:`unaudited`)."""
        self.run("INSERT OR IGNORE INTO delivered VALUES (?, ?)", (_key(event_id), disclosure))

    def unaudited(self) -> Iterator[bytes]:
        """The staged disclosures whose event is not on the audit topic; clears the stage."""
        rows = self.run(
            "SELECT disclosure FROM delivered WHERE id NOT IN (SELECT id FROM audited) ORDER BY id"
        ).fetchall()
        self.run("DELETE FROM delivered")
        for (disclosure,) in rows:
            yield bytes(disclosure)


class IdSet:
    """A set of ids in a :class:`SeenIds` table."""

    def __init__(self, store: SeenIds, table: str) -> None:
        self._store = store
        self._contains, self._add, self._discard = _SET_SQL[table]
        self.count = 0

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, str):
            return False
        row = self._store.run(self._contains, (_key(item),)).fetchone()
        return row is not None

    def add(self, item: str) -> bool:
        """Add ``item``; True when it was not there yet."""
        cursor = self._store.run(self._add, (_key(item),))
        added = cursor.rowcount == 1
        self.count += added
        return added

    def discard(self, item: str) -> None:
        cursor = self._store.run(self._discard, (_key(item),))
        self.count -= cursor.rowcount

    def __len__(self) -> int:
        return self.count


class AppliedIds:
    """Source event id -> publishing partner (or None), in a :class:`SeenIds` table."""

    def __init__(self, store: SeenIds) -> None:
        self._store = store
        self.count = 0

    def _row(self, event_id: str) -> tuple[str | None] | None:
        row: tuple[str | None] | None = self._store.run(
            "SELECT partner FROM applied WHERE id = ?", (_key(event_id),)
        ).fetchone()
        return row

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self._row(item) is not None

    def lookup(self, event_id: str) -> tuple[bool, str | None]:
        """(applied?, publishing partner) in one query."""
        row = self._row(event_id)
        return (False, None) if row is None else (True, row[0])

    def __setitem__(self, event_id: str, partner: str | None) -> None:
        added = self._store.run(
            "INSERT OR IGNORE INTO applied VALUES (?, ?)", (_key(event_id), partner)
        ).rowcount
        if added:
            self.count += 1
        else:
            self._store.run(
                "UPDATE applied SET partner = ? WHERE id = ?", (partner, _key(event_id))
            )

    def __len__(self) -> int:
        return self.count


class MovedRecords:
    """Outbox record (where it was published) -> the repartition offset it first has.

    A worker that fails after moving a record moves it again; the copy is the same record
    at a later offset. The first one is routed, every later one skipped: a function of
    the repartition partition alone, so every worker decides alike."""

    def __init__(self, store: SeenIds) -> None:
        self._store = store
        self.count = 0

    def first(self, origin: str, offset: int) -> bool:
        """Whether the repartition record at ``offset`` is the first copy of ``origin``
        (noted when it is the first seen)."""
        key = _key(origin)
        added = self._store.run("INSERT OR IGNORE INTO moved VALUES (?, ?)", (key, offset)).rowcount
        if added:
            self.count += 1
            return True
        row = self._store.run("SELECT offset FROM moved WHERE id = ?", (key,)).fetchone()
        return row is not None and int(row[0]) == offset

    def __len__(self) -> int:
        return self.count
