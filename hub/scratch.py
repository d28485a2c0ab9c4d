"""Scratch databases: SQLite files that hold what would otherwise grow in memory.

A router worker must remember every id it has written (to write nothing twice) and a
record's id for as long as a copy of it can come back (the replay guard). Held in Python
sets, that memory grows with every record routed, for as long as the worker lives. In a
scratch database it costs a bounded page cache; the rest is on disk.

:func:`scratch_db` opens one: ``path`` None gives SQLite's private temporary database
(an empty file name), which SQLite unlinks as soon as it creates the file, so nothing is
left behind even after a SIGKILL; with a path the file stays (the replay guard's
persisted mode). Durability is not asked of a temporary one (no journal, no fsync): it
is a cache of what the topics hold, rebuilt from them whenever a partition is loaded.
Why: docs/decisions/0007-on-disk-id-stores.md.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.errors import HubError

__all__ = ["DEFAULT_CACHE_KIB", "ScratchError", "scratch_db"]

DEFAULT_CACHE_KIB = 2048
"""The page cache of one scratch database (KiB): what it may hold in memory."""


class ScratchError(HubError):
    """A scratch database could not be opened or written (disk full, unwritable dir)."""


def scratch_db(
    path: Path | None = None, *, cache_kib: int = DEFAULT_CACHE_KIB
) -> sqlite3.Connection:
    """A connection to a scratch database (autocommit; callers open transactions).

    ``path`` None: a private temporary on-disk database, gone when the connection closes
    (or the process dies). Otherwise the file at ``path``, with a rollback journal so a
    crash leaves its last committed state.
    """
    try:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            "" if path is None else str(path), check_same_thread=False, isolation_level=None
        )
        db.execute(f"PRAGMA cache_size = {-int(cache_kib)}")
        db.execute("PRAGMA temp_store = FILE")
        if path is None:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA locking_mode = EXCLUSIVE")
    except (sqlite3.Error, OSError) as exc:
        where = "a temporary file" if path is None else str(path)
        raise ScratchError(f"cannot open the scratch database {where}: {exc}") from exc
    return db
