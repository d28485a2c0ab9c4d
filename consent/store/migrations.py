"""Numbered schema migrations of the consent store, for SQLite and PostgreSQL.

Each migration is a list of statements with type placeholders (``{serial}``, ``{ts}``,
``{blob}``) filled per dialect, plus dialect-only statements (triggers). The store
applies those not yet recorded in ``consent_schema_migrations``, each in its own
transaction, at start-up; a database that has a version this code does not know is
refused. Never edit a released migration: add the next number.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "Migration", "statements_for"]

MIGRATIONS_TABLE = "consent_schema_migrations"

_TYPES: dict[str, dict[str, str]] = {
    "sqlite": {
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "ts": "TEXT",
        "blob": "BLOB",
        "bigint": "INTEGER",
    },
    "postgresql": {
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "ts": "TIMESTAMPTZ",
        "blob": "BYTEA",
        "bigint": "BIGINT",
    },
}


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    sqlite: tuple[str, ...] = ()
    postgresql: tuple[str, ...] = ()


def statements_for(migration: Migration, dialect: str) -> list[str]:
    """The migration's statements for ``dialect``, types filled in."""
    types = _TYPES[dialect]
    common = [s.format(**types) for s in migration.statements]
    extra = migration.sqlite if dialect == "sqlite" else migration.postgresql
    return common + list(extra)


_APPEND_ONLY = "consent_events is append-only: record a new event instead"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "consent register: events, projection, outbox, leases",
        (
            """CREATE TABLE consent_events (
                seq {serial},
                event_id TEXT NOT NULL UNIQUE,
                consent_id TEXT NOT NULL,
                subject TEXT NOT NULL,
                change TEXT NOT NULL,
                actor TEXT NOT NULL,
                recorded_at {ts} NOT NULL,
                prev_hash TEXT,
                event_hash TEXT NOT NULL,
                body TEXT NOT NULL
            )""",
            "CREATE INDEX consent_events_by_consent ON consent_events (consent_id, seq)",
            "CREATE INDEX consent_events_by_subject ON consent_events (subject, seq)",
            """CREATE TABLE consent_records (
                consent_id TEXT PRIMARY KEY,
                subject TEXT NOT NULL,
                controller TEXT NOT NULL,
                status TEXT NOT NULL,
                valid_from {ts} NOT NULL,
                valid_until {ts},
                last_seq {bigint} NOT NULL,
                last_event_hash TEXT NOT NULL,
                body TEXT NOT NULL
            )""",
            "CREATE INDEX consent_records_by_subject ON consent_records (subject)",
            "CREATE INDEX consent_records_by_expiry ON consent_records (status, valid_until)",
            """CREATE TABLE consent_outbox (
                seq {serial},
                event_id TEXT NOT NULL UNIQUE,
                topic_key TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at {ts} NOT NULL,
                published_at {ts},
                topic TEXT,
                kafka_partition INTEGER,
                kafka_offset {bigint}
            )""",
            "CREATE INDEX consent_outbox_pending ON consent_outbox (seq) "
            "WHERE published_at IS NULL",
            "CREATE INDEX consent_outbox_by_position ON consent_outbox "
            "(topic, kafka_partition, kafka_offset)",
            """CREATE TABLE consent_leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at {ts} NOT NULL
            )""",
        ),
        sqlite=(
            "CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END",
            "CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END",
        ),
        postgresql=(
            "CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$",
            "CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events "
            "FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()",
            "CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only()",
        ),
    ),
    Migration(
        2,
        "subject identities (encrypted BSN), disclosures, API keys",
        (
            """CREATE TABLE consent_subject_identities (
                subject TEXT PRIMARY KEY,
                bsn_ciphertext {blob} NOT NULL,
                bsn_lookup TEXT NOT NULL,
                recorded_at {ts} NOT NULL,
                recorded_by TEXT NOT NULL
            )""",
            "CREATE INDEX consent_subject_identities_by_bsn "
            "ON consent_subject_identities (bsn_lookup)",
            """CREATE TABLE consent_disclosures (
                seq {serial},
                disclosure_id TEXT NOT NULL UNIQUE,
                subject TEXT NOT NULL,
                recipient TEXT NOT NULL,
                disclosed_at {ts} NOT NULL,
                body TEXT NOT NULL
            )""",
            "CREATE INDEX consent_disclosures_by_subject "
            "ON consent_disclosures (subject, disclosed_at)",
            """CREATE TABLE consent_api_keys (
                key_id TEXT PRIMARY KEY,
                key_hash TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                partner_id TEXT,
                created_at {ts} NOT NULL,
                revoked_at {ts}
            )""",
        ),
    ),
    Migration(
        3,
        "read positions of the disclosure audit topic",
        (
            """CREATE TABLE consent_ingest_offsets (
                topic TEXT NOT NULL,
                kafka_partition INTEGER NOT NULL,
                next_offset {bigint} NOT NULL,
                PRIMARY KEY (topic, kafka_partition)
            )""",
        ),
    ),
    Migration(
        4,
        "console sessions held by the server (ended on sign-out and expiry)",
        (
            """CREATE TABLE consent_console_sessions (
                session_hash TEXT PRIMARY KEY,
                key_id TEXT NOT NULL,
                created_at {ts} NOT NULL,
                expires_at {ts} NOT NULL
            )""",
            "CREATE INDEX consent_console_sessions_by_expiry "
            "ON consent_console_sessions (expires_at)",
        ),
    ),
    Migration(
        5,
        "the audit trail's chain per partition, and its records that do not verify",
        (
            """CREATE TABLE consent_audit_chains (
                topic TEXT NOT NULL,
                kafka_partition INTEGER NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (topic, kafka_partition)
            )""",
            """CREATE TABLE consent_audit_rejects (
                topic TEXT NOT NULL,
                kafka_partition INTEGER NOT NULL,
                kafka_offset {bigint} NOT NULL,
                subject TEXT,
                body TEXT NOT NULL,
                PRIMARY KEY (topic, kafka_partition, kafka_offset)
            )""",
            "CREATE INDEX consent_audit_rejects_by_subject ON consent_audit_rejects (subject)",
        ),
    ),
    Migration(
        6,
        "idempotency keys of grants (a retried request returns the consent it made)",
        (
            """CREATE TABLE consent_idempotency_keys (
                actor TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                consent_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                created_at {ts} NOT NULL,
                PRIMARY KEY (actor, idempotency_key)
            )""",
        ),
    ),
    Migration(
        7,
        "bulk withdrawals: a preview (its token's hash, officer, selection) and its execution",
        (
            """CREATE TABLE consent_bulk_withdrawals (
                token_hash TEXT PRIMARY KEY,
                actor TEXT NOT NULL,
                selection TEXT NOT NULL,
                consent_ids TEXT NOT NULL,
                created_at {ts} NOT NULL,
                expires_at {ts} NOT NULL,
                reason TEXT,
                executed_at {ts}
            )""",
            "CREATE INDEX consent_disclosures_by_recipient ON consent_disclosures (recipient, seq)",
            "CREATE INDEX consent_events_by_recorded ON consent_events (recorded_at, seq)",
        ),
    ),
    Migration(
        8,
        "erasure acknowledgements: a recipient confirms it acted on an erasure notice",
        (
            """CREATE TABLE consent_erasure_acks (
                notice_id TEXT PRIMARY KEY,
                subject TEXT NOT NULL,
                consent_id TEXT NOT NULL,
                consent_event_id TEXT NOT NULL,
                recipient TEXT NOT NULL,
                erased_at {ts} NOT NULL,
                recorded_at {ts} NOT NULL,
                actor TEXT NOT NULL
            )""",
            "CREATE INDEX consent_erasure_acks_by_subject ON consent_erasure_acks (subject)",
        ),
    ),
    Migration(
        9,
        "subject keys of sealed special-category fields, wrapped under the master key",
        (
            # wrapped: nonce | AES-256-GCM(master key, subject key, aad = subject, key id);
            # NULL once destroyed (the row stays, a tombstone: "shredded", not "unknown")
            """CREATE TABLE consent_subject_keys (
                key_id TEXT PRIMARY KEY,
                subject TEXT NOT NULL,
                wrapped {blob},
                created_at_ms {bigint} NOT NULL,
                destroyed_at_ms {bigint}
            )""",
            "CREATE INDEX consent_subject_keys_by_subject "
            "ON consent_subject_keys (subject, created_at_ms)",
        ),
    ),
)
