"""The consent store: one interface, SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from consent.errors import ConsentStoreError
from consent.store.interface import (
    ApiKeyRecord,
    BulkPreview,
    ConsentStore,
    ConsoleSessionRecord,
    ErasureAck,
    IdempotentGrant,
    OutboxRow,
    StoreTransaction,
    SubjectIdentity,
    Window,
)
from hub.config import HubSettings

__all__ = [
    "DEFAULT_SQLITE_NAME",
    "ApiKeyRecord",
    "BulkPreview",
    "ConsentStore",
    "ConsoleSessionRecord",
    "ErasureAck",
    "IdempotentGrant",
    "OutboxRow",
    "StoreTransaction",
    "SubjectIdentity",
    "Window",
    "open_store",
    "store_for",
]

DEFAULT_SQLITE_NAME = "consent.db"


def open_store(url: str | None, data_dir: Path = Path(".hub")) -> ConsentStore:
    """A store for a SQLAlchemy-style URL (not yet migrated).

    ``None`` is SQLite at ``data_dir/consent.db``; ``sqlite:///relative.db``,
    ``sqlite:////absolute.db`` and ``sqlite:///:memory:`` are SQLite;
    ``postgresql://...`` (also ``postgres://`` and ``postgresql+psycopg://``) PostgreSQL.
    """
    if url is None:
        from consent.store.sqlite import SqliteConsentStore  # noqa: PLC0415

        return SqliteConsentStore(data_dir / DEFAULT_SQLITE_NAME)
    scheme, sep, rest = url.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if not sep:
        raise ConsentStoreError("database_url must look like sqlite:///file or postgresql://...")
    if base == "sqlite":
        from consent.store.sqlite import SqliteConsentStore  # noqa: PLC0415

        path = rest[1:] if rest.startswith("/") else rest
        return SqliteConsentStore(path or ":memory:")
    if base in ("postgresql", "postgres"):
        from consent.store.postgres import PostgresConsentStore  # noqa: PLC0415

        return PostgresConsentStore(f"postgresql://{rest}")
    raise ConsentStoreError(f"unsupported database_url scheme '{scheme}' (sqlite or postgresql)")


def store_for(settings: HubSettings) -> ConsentStore:
    """The configured store, migrated to the current schema."""
    store = open_store(settings.database_url, settings.data_dir)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
