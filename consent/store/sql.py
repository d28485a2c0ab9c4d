"""The consent store in plain SQL, shared by the SQLite and PostgreSQL implementations.

Statements are written with ``?`` placeholders; a dialect turns them into its own.
One connection per store, guarded by a lock (the service's writes are short, and the
decision path reads one subject's few rows), so the same object serves the HTTP
threads and the outbox relay.
"""

from __future__ import annotations

import contextlib
import json
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from consent.errors import ConsentStoreError
from consent.model import (
    AuditChainState,
    AuditReject,
    ConsentChangeMessage,
    ConsentEvent,
    ConsentRecord,
    ConsentStatus,
    DisclosureRecord,
    Role,
    utc_now,
)
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
from consent.store.migrations import MIGRATIONS, MIGRATIONS_TABLE, statements_for
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.security.shredding import WrappedSubjectKey

__all__ = ["SqlConsentStore"]

_OUTBOX_COLUMNS = (
    "seq, event_id, topic_key, body, created_at, published_at, topic, kafka_partition, kafka_offset"
)
_KEY_COLUMNS = "key_id, name, role, partner_id, created_at, revoked_at"
_SUBJECT_KEY_COLUMNS = "key_id, subject, wrapped, created_at_ms, destroyed_at_ms"
_LIVE_SUBJECT_KEY = (
    f"SELECT {_SUBJECT_KEY_COLUMNS} FROM consent_subject_keys "  # noqa: S608
    "WHERE subject = ? AND wrapped IS NOT NULL ORDER BY created_at_ms DESC, key_id DESC LIMIT 1"
)
_SELECT_VERSIONS = f"SELECT version FROM {MIGRATIONS_TABLE}"  # noqa: S608
_MAX_VERSION = f"SELECT MAX(version) FROM {MIGRATIONS_TABLE}"  # noqa: S608
_INSERT_VERSION = f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)"  # noqa: S608


class SqlConsentStore(ConsentStore):
    """The SQL of the store; subclasses connect, begin transactions and convert types."""

    dialect = "sql"
    for_update_clause = ""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._connection: Any = None

    # --- what a dialect provides -----------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """A new DB-API connection in autocommit mode."""

    @abstractmethod
    def _begin(self, conn: Any) -> None: ...

    @abstractmethod
    def _lock_for_migrations(self, conn: Any) -> None:
        """Inside the migration transaction: keep other processes from migrating too."""

    def _lock_subject(self, conn: Any, subject: str) -> None:
        """Inside a write transaction: serialise the changes of one subject, so that its
        changes commit in register order (the feed chains them). SQLite's BEGIN IMMEDIATE
        already serialises every writer."""

    @abstractmethod
    def _is_broken(self, conn: Any) -> bool:
        """True when the connection is unusable and must be replaced."""

    @abstractmethod
    def _db_error_types(self) -> tuple[type[Exception], ...]: ...

    @abstractmethod
    def _integrity_error_types(self) -> tuple[type[Exception], ...]: ...

    def _sql(self, statement: str) -> str:
        return statement

    def _ts_in(self, value: datetime | None) -> Any:
        return value

    def _ts_out(self, value: Any) -> datetime:
        assert isinstance(value, datetime)
        return value

    def _ts_out_opt(self, value: Any) -> datetime | None:
        return None if value is None else self._ts_out(value)

    # --- connection and transactions -------------------------------------------------------
    def _conn(self) -> Any:
        if self._connection is None or self._is_broken(self._connection):
            if self._connection is not None:
                self._close_quietly()
            self._connection = self._connect()
        return self._connection

    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # it is being replaced anyway
            self._connection.close()
        self._connection = None

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except self._db_error_types() as exc:
            raise ConsentStoreError(f"{self.dialect}: {action}: {exc}") from exc

    def _execute(self, conn: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(self._sql(statement), tuple(params))

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._errors("reading"):
            rows: list[tuple[Any, ...]] = self._execute(self._conn(), statement, params).fetchall()
            return rows

    @contextmanager
    def _tx(self, action: str) -> Iterator[Any]:
        with self._lock, self._errors(action):
            conn = self._conn()
            self._begin(conn)
            try:
                yield conn
            except BaseException:
                try:
                    conn.execute("ROLLBACK")
                except Exception:  # the original error matters more
                    self._close_quietly()
                raise
            conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        with self._tx("writing") as conn:
            yield _SqlTransaction(self, conn)

    # --- migrations --------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        with self._tx("creating the migrations table") as conn:
            self._execute(
                conn,
                f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, "
                f"name TEXT NOT NULL, applied_at {self._ts_type()} NOT NULL)",
            )
        applied: list[int] = []
        known = {m.version for m in MIGRATIONS}
        for migration in MIGRATIONS:
            with self._tx(f"migration {migration.version}") as conn:
                self._lock_for_migrations(conn)
                rows = self._execute(conn, _SELECT_VERSIONS).fetchall()
                done = {int(r[0]) for r in rows}
                unknown = done - known
                if unknown:
                    raise ConsentStoreError(
                        f"the consent database has schema version(s) {sorted(unknown)} that "
                        "this code does not know; upgrade rmt-hub"
                    )
                if migration.version in done:
                    continue
                for statement in statements_for(migration, self.dialect):
                    conn.execute(statement)
                self._execute(
                    conn,
                    _INSERT_VERSION,
                    (migration.version, migration.name, self._ts_in(utc_now())),
                )
                applied.append(migration.version)
        return applied

    def _ts_type(self) -> str:
        return "TEXT" if self.dialect == "sqlite" else "TIMESTAMPTZ"

    def schema_version(self) -> int:
        rows = self._query(_MAX_VERSION)
        return int(rows[0][0] or 0)

    # --- the register ------------------------------------------------------------------------
    def get(self, consent_id: ConsentId) -> ConsentRecord | None:
        rows = self._query("SELECT body FROM consent_records WHERE consent_id = ?", (consent_id,))
        return ConsentRecord.model_validate_json(rows[0][0]) if rows else None

    def for_subject(self, subject: ClientPseudonym) -> list[ConsentRecord]:
        rows = self._query(
            "SELECT body FROM consent_records WHERE subject = ? ORDER BY valid_from, consent_id",
            (subject,),
        )
        return [ConsentRecord.model_validate_json(r[0]) for r in rows]

    def events(
        self, *, consent_id: ConsentId | None = None, subject: ClientPseudonym | None = None
    ) -> list[ConsentEvent]:
        where = ""
        params: tuple[str, ...] = ()
        if consent_id is not None:
            where, params = "WHERE consent_id = ?", (consent_id,)
        elif subject is not None:
            where, params = "WHERE subject = ?", (subject,)
        statement = f"SELECT seq, body FROM consent_events {where} ORDER BY seq"  # noqa: S608
        rows = self._query(statement, params)
        return [
            ConsentEvent.model_validate_json(r[1]).model_copy(update={"seq": r[0]}) for r in rows
        ]

    def iter_records(self, batch: int = 1000) -> Iterator[ConsentRecord]:
        last = ""
        while True:
            rows = self._query(
                "SELECT consent_id, body FROM consent_records WHERE consent_id > ? "
                "ORDER BY consent_id LIMIT ?",
                (last, batch),
            )
            if not rows:
                return
            for row in rows:
                yield ConsentRecord.model_validate_json(row[1])
            last = rows[-1][0]

    def due_expiries(self, now: datetime, limit: int = 100) -> list[ConsentId]:
        rows = self._query(
            "SELECT consent_id FROM consent_records WHERE status = ? AND valid_until IS NOT NULL "
            "AND valid_until <= ? ORDER BY valid_until LIMIT ?",
            (ConsentStatus.GIVEN.value, self._ts_in(now), limit),
        )
        return [ConsentId(r[0]) for r in rows]

    def expiring(
        self,
        now: datetime,
        until: datetime,
        limit: int,
        after: tuple[datetime, ConsentId] | None = None,
    ) -> list[ConsentRecord]:
        where = "status = ? AND valid_until IS NOT NULL AND valid_until > ? AND valid_until <= ?"
        params: list[Any] = [ConsentStatus.GIVEN.value, self._ts_in(now), self._ts_in(until)]
        if after is not None:
            where += " AND (valid_until > ? OR (valid_until = ? AND consent_id > ?))"
            params += [self._ts_in(after[0]), self._ts_in(after[0]), after[1]]
        rows = self._query(
            f"SELECT body FROM consent_records WHERE {where} "  # noqa: S608
            "ORDER BY valid_until, consent_id LIMIT ?",
            (*params, limit),
        )
        return [ConsentRecord.model_validate_json(r[0]) for r in rows]

    def count_expiring(self, now: datetime, until: datetime) -> int:
        rows = self._query(
            "SELECT COUNT(*) FROM consent_records WHERE status = ? AND valid_until IS NOT NULL "
            "AND valid_until > ? AND valid_until <= ?",
            (ConsentStatus.GIVEN.value, self._ts_in(now), self._ts_in(until)),
        )
        return int(rows[0][0])

    def _window(
        self, window: Window, time_column: str, partner_column: str | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if partner_column is not None and window.partner is not None:
            clauses.append(f"{partner_column} = ?")
            params.append(window.partner)
        if window.subject is not None:
            clauses.append("subject = ?")
            params.append(window.subject)
        if window.since is not None:
            clauses.append(f"{time_column} >= ?")
            params.append(self._ts_in(window.since))
        if window.until is not None:
            clauses.append(f"{time_column} < ?")
            params.append(self._ts_in(window.until))
        return "".join(f" AND {c}" for c in clauses), params

    def event_page(self, window: Window, after_seq: int, limit: int) -> list[ConsentEvent]:
        where, params = self._window(window, "recorded_at", None)
        rows = self._query(
            f"SELECT seq, body FROM consent_events WHERE seq > ?{where} "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (after_seq, *params, limit),
        )
        return [
            ConsentEvent.model_validate_json(r[1]).model_copy(update={"seq": r[0]}) for r in rows
        ]

    def status_counts(self, now: datetime) -> dict[str, int]:
        counts = {status.value: 0 for status in ConsentStatus}
        for status, number in self._query(
            "SELECT status, COUNT(*) FROM consent_records GROUP BY status"
        ):
            counts[str(status)] = int(number)
        lapsed = self._query(
            "SELECT COUNT(*) FROM consent_records WHERE status = ? AND valid_until IS NOT NULL "
            "AND valid_until <= ?",
            (ConsentStatus.GIVEN.value, self._ts_in(now)),
        )[0][0]
        counts[ConsentStatus.GIVEN.value] -= int(lapsed)
        counts[ConsentStatus.EXPIRED.value] += int(lapsed)
        return counts

    def subjects_by_bsn(self, bsn_lookup: str) -> list[ClientPseudonym]:
        rows = self._query(
            "SELECT subject FROM consent_subject_identities WHERE bsn_lookup = ? ORDER BY subject",
            (bsn_lookup,),
        )
        return [ClientPseudonym(r[0]) for r in rows]

    def identity(self, subject: ClientPseudonym) -> SubjectIdentity | None:
        with self._lock:
            return self._identity(self._conn(), subject)

    def _identity(self, conn: Any, subject: ClientPseudonym) -> SubjectIdentity | None:
        with self._errors("reading an identity"):
            row = self._execute(
                conn,
                "SELECT bsn_ciphertext, bsn_lookup, recorded_at, recorded_by "
                "FROM consent_subject_identities WHERE subject = ?",
                (subject,),
            ).fetchone()
        if row is None:
            return None
        return SubjectIdentity(subject, bytes(row[0]), row[1], self._ts_out(row[2]), row[3])

    # --- the outbox ----------------------------------------------------------------------------
    def _outbox_row(self, row: tuple[Any, ...]) -> OutboxRow:
        return OutboxRow(
            seq=int(row[0]),
            event_id=EventId(row[1]),
            key=ClientPseudonym(row[2]),
            message=ConsentChangeMessage.model_validate_json(row[3]),
            created_at=self._ts_out(row[4]),
            published_at=self._ts_out_opt(row[5]),
            topic=row[6],
            partition=None if row[7] is None else int(row[7]),
            offset=None if row[8] is None else int(row[8]),
        )

    def pending_outbox(self, limit: int = 100) -> list[OutboxRow]:
        rows = self._query(
            f"SELECT {_OUTBOX_COLUMNS} FROM consent_outbox WHERE published_at IS NULL "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [self._outbox_row(r) for r in rows]

    def outbox_row(self, event_id: EventId) -> OutboxRow | None:
        rows = self._query(
            f"SELECT {_OUTBOX_COLUMNS} FROM consent_outbox WHERE event_id = ?",  # noqa: S608
            (event_id,),
        )
        return self._outbox_row(rows[0]) if rows else None

    def mark_published(
        self, event_id: EventId, topic: str, partition: int, offset: int, at: datetime
    ) -> bool:
        with self._tx("marking an outbox row published") as conn:
            cursor = self._execute(
                conn,
                "UPDATE consent_outbox SET published_at = ?, topic = ?, kafka_partition = ?, "
                "kafka_offset = ? WHERE event_id = ? AND published_at IS NULL",
                (self._ts_in(at), topic, partition, offset, event_id),
            )
            return bool(cursor.rowcount)

    def last_published_offset(self, topic: str, partition: int) -> int | None:
        rows = self._query(
            "SELECT MAX(kafka_offset) FROM consent_outbox WHERE topic = ? AND kafka_partition = ?",
            (topic, partition),
        )
        return None if rows[0][0] is None else int(rows[0][0])

    def acquire_lease(
        self, name: str, holder: str, now: datetime, ttl_s: float, *, steal_from: str | None = None
    ) -> bool:
        expires = now + timedelta(seconds=ttl_s)
        with self._tx("taking a lease") as conn:
            self._execute(
                conn,
                "INSERT INTO consent_leases (name, holder, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at "
                "WHERE consent_leases.holder = excluded.holder OR consent_leases.expires_at <= ? "
                "OR consent_leases.holder = ?",
                (name, holder, self._ts_in(expires), self._ts_in(now), steal_from or holder),
            )
            row = self._execute(
                conn, "SELECT holder FROM consent_leases WHERE name = ?", (name,)
            ).fetchone()
            return bool(row is not None and row[0] == holder)

    def event_at(self, topic: str, partition: int, offset: int) -> EventId | None:
        rows = self._query(
            "SELECT event_id FROM consent_outbox WHERE topic = ? AND kafka_partition = ? "
            "AND kafka_offset = ?",
            (topic, partition, offset),
        )
        return EventId(rows[0][0]) if rows else None

    def previous_hash(self, event_id: EventId) -> str | None:
        rows = self._query(
            "SELECT p.event_hash FROM consent_events e JOIN consent_events p "
            "ON p.subject = e.subject AND p.seq < e.seq WHERE e.event_id = ? "
            "ORDER BY p.seq DESC LIMIT 1",
            (event_id,),
        )
        return str(rows[0][0]) if rows else None

    def requeue(self, topic: str, partition: int) -> int:
        with self._tx("requeueing outbox rows") as conn:
            cursor = self._execute(
                conn,
                "UPDATE consent_outbox SET published_at = NULL, topic = NULL, "
                "kafka_partition = NULL, kafka_offset = NULL "
                "WHERE topic = ? AND kafka_partition = ?",
                (topic, partition),
            )
            return int(cursor.rowcount)

    def lease_holder(self, name: str) -> str | None:
        rows = self._query("SELECT holder FROM consent_leases WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def release_lease(self, name: str, holder: str) -> None:
        with self._tx("releasing a lease") as conn:
            self._execute(
                conn, "DELETE FROM consent_leases WHERE name = ? AND holder = ?", (name, holder)
            )

    # --- disclosures -------------------------------------------------------------------------
    def add_disclosures(
        self,
        disclosures: list[DisclosureRecord],
        *,
        topic: str | None = None,
        offsets: dict[int, int] | None = None,
        rejects: Sequence[AuditReject] = (),
        chains: Sequence[AuditChainState] = (),
    ) -> int:
        added = 0
        with self._tx("storing disclosures") as conn:
            for reject in rejects:
                self._execute(
                    conn,
                    "INSERT INTO consent_audit_rejects (topic, kafka_partition, kafka_offset, "
                    "subject, body) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING",
                    (
                        reject.topic,
                        reject.partition,
                        reject.offset,
                        reject.subject,
                        reject.model_dump_json(),
                    ),
                )
            for chain in chains:
                self._execute(
                    conn,
                    "INSERT INTO consent_audit_chains (topic, kafka_partition, body) "
                    "VALUES (?, ?, ?) ON CONFLICT (topic, kafka_partition) "
                    "DO UPDATE SET body = excluded.body",
                    (chain.topic, chain.partition, chain.model_dump_json()),
                )
            for disclosure in disclosures:
                exists = self._execute(
                    conn,
                    "SELECT 1 FROM consent_disclosures WHERE disclosure_id = ?",
                    (disclosure.disclosure_id,),
                ).fetchone()
                if exists:
                    continue
                self._execute(
                    conn,
                    "INSERT INTO consent_disclosures (disclosure_id, subject, recipient, "
                    "disclosed_at, body) VALUES (?, ?, ?, ?, ?)",
                    (
                        disclosure.disclosure_id,
                        disclosure.subject,
                        disclosure.recipient,
                        self._ts_in(disclosure.disclosed_at),
                        disclosure.model_dump_json(),
                    ),
                )
                added += 1
            for partition, offset in sorted((offsets or {}).items()):
                self._execute(
                    conn,
                    "INSERT INTO consent_ingest_offsets (topic, kafka_partition, next_offset) "
                    "VALUES (?, ?, ?) ON CONFLICT (topic, kafka_partition) "
                    "DO UPDATE SET next_offset = excluded.next_offset",
                    (topic, partition, offset),
                )
        return added

    def ingest_offsets(self, topic: str) -> dict[int, int]:
        rows = self._query(
            "SELECT kafka_partition, next_offset FROM consent_ingest_offsets WHERE topic = ?",
            (topic,),
        )
        return {int(r[0]): int(r[1]) for r in rows}

    def audit_chains(self, topic: str | None = None) -> list[AuditChainState]:
        rows = (
            self._query("SELECT body FROM consent_audit_chains ORDER BY topic, kafka_partition")
            if topic is None
            else self._query(
                "SELECT body FROM consent_audit_chains WHERE topic = ? ORDER BY kafka_partition",
                (topic,),
            )
        )
        return [AuditChainState.model_validate_json(r[0]) for r in rows]

    def audit_rejects_for(self, subject: ClientPseudonym) -> list[AuditReject]:
        rows = self._query(
            "SELECT body FROM consent_audit_rejects WHERE subject = ? "
            "ORDER BY topic, kafka_partition, kafka_offset",
            (subject,),
        )
        return [AuditReject.model_validate_json(r[0]) for r in rows]

    def disclosures_for(self, subject: ClientPseudonym) -> list[DisclosureRecord]:
        rows = self._query(
            "SELECT body FROM consent_disclosures WHERE subject = ? ORDER BY disclosed_at, seq",
            (subject,),
        )
        return [DisclosureRecord.model_validate_json(r[0]) for r in rows]

    def disclosure_page(
        self, window: Window, after_seq: int, limit: int
    ) -> list[tuple[int, DisclosureRecord]]:
        where, params = self._window(window, "disclosed_at", "recipient")
        rows = self._query(
            f"SELECT seq, body FROM consent_disclosures WHERE seq > ?{where} "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (after_seq, *params, limit),
        )
        return [(int(r[0]), DisclosureRecord.model_validate_json(r[1])) for r in rows]

    # --- bulk withdrawals ----------------------------------------------------------------------
    def add_bulk_preview(self, preview: BulkPreview) -> None:
        with self._tx("storing a bulk withdrawal preview") as conn:
            self._execute(
                conn,
                "INSERT INTO consent_bulk_withdrawals (token_hash, actor, selection, "
                "consent_ids, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    preview.token_hash,
                    preview.actor,
                    preview.selection,
                    json.dumps(list(preview.consent_ids)),
                    self._ts_in(preview.created_at),
                    self._ts_in(preview.expires_at),
                ),
            )

    def bulk_preview(self, token_hash: str) -> BulkPreview | None:
        rows = self._query(
            "SELECT actor, selection, consent_ids, created_at, expires_at, reason, executed_at "
            "FROM consent_bulk_withdrawals WHERE token_hash = ?",
            (token_hash,),
        )
        if not rows:
            return None
        actor, selection, ids, created_at, expires_at, reason, executed_at = rows[0]
        return BulkPreview(
            token_hash=token_hash,
            actor=actor,
            selection=selection,
            consent_ids=tuple(ConsentId(i) for i in json.loads(ids)),
            created_at=self._ts_out(created_at),
            expires_at=self._ts_out(expires_at),
            reason=reason,
            executed_at=self._ts_out_opt(executed_at),
        )

    # --- erasure acknowledgements -------------------------------------------------------------
    _ACK_COLUMNS = (
        "notice_id, subject, consent_id, consent_event_id, recipient, erased_at, recorded_at, actor"
    )

    def _ack_out(self, row: Sequence[Any]) -> ErasureAck:
        notice_id, subject, consent_id, event_id, recipient, erased_at, recorded_at, actor = row
        return ErasureAck(
            notice_id=EventId(notice_id),
            subject=ClientPseudonym(subject),
            consent_id=ConsentId(consent_id),
            consent_event_id=EventId(event_id),
            recipient=PartnerId(recipient),
            erased_at=self._ts_out(erased_at),
            recorded_at=self._ts_out(recorded_at),
            actor=actor,
        )

    def add_erasure_ack(self, ack: ErasureAck) -> ErasureAck:
        with self._tx("storing an erasure acknowledgement") as conn:
            found = self._execute(
                conn,
                f"SELECT {self._ACK_COLUMNS} FROM consent_erasure_acks "  # noqa: S608
                "WHERE notice_id = ?",
                (ack.notice_id,),
            ).fetchone()
            if found is not None:
                return self._ack_out(found)
            self._execute(
                conn,
                f"INSERT INTO consent_erasure_acks ({self._ACK_COLUMNS}) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ack.notice_id,
                    ack.subject,
                    ack.consent_id,
                    ack.consent_event_id,
                    ack.recipient,
                    self._ts_in(ack.erased_at),
                    self._ts_in(ack.recorded_at),
                    ack.actor,
                ),
            )
            return ack

    def erasure_acks_for(self, subject: ClientPseudonym) -> list[ErasureAck]:
        rows = self._query(
            f"SELECT {self._ACK_COLUMNS} FROM consent_erasure_acks "  # noqa: S608
            "WHERE subject = ? ORDER BY recorded_at, notice_id",
            (subject,),
        )
        return [self._ack_out(r) for r in rows]

    def start_bulk_withdrawal(self, token_hash: str, reason: str | None, at: datetime) -> bool:
        with self._tx("starting a bulk withdrawal") as conn:
            cursor = self._execute(
                conn,
                "UPDATE consent_bulk_withdrawals SET reason = ?, executed_at = ? "
                "WHERE token_hash = ? AND executed_at IS NULL",
                (reason, self._ts_in(at), token_hash),
            )
            return bool(cursor.rowcount)

    # --- subject keys --------------------------------------------------------------------------
    @staticmethod
    def _subject_key(row: tuple[Any, ...]) -> WrappedSubjectKey:
        return WrappedSubjectKey(
            key_id=str(row[0]),
            subject=str(row[1]),
            wrapped=None if row[2] is None else bytes(row[2]),
            created_at_ms=int(row[3]),
            destroyed_at_ms=None if row[4] is None else int(row[4]),
        )

    def live_subject_key(self, subject: str) -> WrappedSubjectKey | None:
        rows = self._query(_LIVE_SUBJECT_KEY, (subject,))
        return self._subject_key(rows[0]) if rows else None

    def add_subject_key(
        self, subject: str, make: Callable[[], WrappedSubjectKey]
    ) -> WrappedSubjectKey:
        with self._tx("storing a subject key") as conn:
            self._lock_subject(conn, subject)
            row = self._execute(conn, _LIVE_SUBJECT_KEY, (subject,)).fetchone()
            if row is not None:
                return self._subject_key(row)
            made = make()
            self._insert_subject_key(conn, made)
            return made

    def _insert_subject_key(self, conn: Any, key: WrappedSubjectKey) -> bool:
        cursor = self._execute(
            conn,
            f"INSERT INTO consent_subject_keys ({_SUBJECT_KEY_COLUMNS}) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING",
            (key.key_id, key.subject, key.wrapped, key.created_at_ms, key.destroyed_at_ms),
        )
        return bool(cursor.rowcount)

    def subject_key_row(self, key_id: str) -> WrappedSubjectKey | None:
        rows = self._query(
            f"SELECT {_SUBJECT_KEY_COLUMNS} FROM consent_subject_keys WHERE key_id = ?",  # noqa: S608
            (key_id,),
        )
        return self._subject_key(rows[0]) if rows else None

    def subject_key_rows(self, subject: str) -> list[WrappedSubjectKey]:
        rows = self._query(
            f"SELECT {_SUBJECT_KEY_COLUMNS} FROM consent_subject_keys "  # noqa: S608
            "WHERE subject = ? ORDER BY created_at_ms, key_id",
            (subject,),
        )
        return [self._subject_key(r) for r in rows]

    def destroy_subject_keys(self, subject: str, at_ms: int) -> int:
        with self._tx("destroying subject keys") as conn:
            self._lock_subject(conn, subject)
            cursor = self._execute(
                conn,
                "UPDATE consent_subject_keys SET wrapped = NULL, destroyed_at_ms = ? "
                "WHERE subject = ? AND wrapped IS NOT NULL",
                (at_ms, subject),
            )
            destroyed = int(cursor.rowcount)
        if destroyed:
            with self._lock, self._errors("scrubbing destroyed keys"):
                self._scrub(self._conn())
        return destroyed

    def _scrub(self, conn: Any) -> None:
        """After keys were overwritten: drop the database's own older copies of them where
        the dialect keeps any (SQLite's write-ahead log)."""

    def import_subject_key(self, row: WrappedSubjectKey) -> bool:
        with self._tx("importing a subject key") as conn:
            return self._insert_subject_key(conn, row)

    # --- API keys ----------------------------------------------------------------------------
    def _key_record(self, row: tuple[Any, ...]) -> ApiKeyRecord:
        return ApiKeyRecord(
            key_id=row[0],
            name=row[1],
            role=Role(row[2]),
            partner_id=None if row[3] is None else PartnerId(row[3]),
            created_at=self._ts_out(row[4]),
            revoked_at=self._ts_out_opt(row[5]),
        )

    def add_api_key(self, record: ApiKeyRecord, key_hash: str) -> None:
        with self._tx("storing an API key") as conn:
            self._execute(
                conn,
                f"INSERT INTO consent_api_keys ({_KEY_COLUMNS}, key_hash) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key_id,
                    record.name,
                    record.role.value,
                    record.partner_id,
                    self._ts_in(record.created_at),
                    self._ts_in(record.revoked_at),
                    key_hash,
                ),
            )

    def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        rows = self._query(
            f"SELECT {_KEY_COLUMNS} FROM consent_api_keys WHERE key_hash = ?",  # noqa: S608
            (key_hash,),
        )
        return self._key_record(rows[0]) if rows else None

    def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        with self._tx("revoking an API key") as conn:
            cursor = self._execute(
                conn,
                "UPDATE consent_api_keys SET revoked_at = ? "
                "WHERE key_id = ? AND revoked_at IS NULL",
                (self._ts_in(at), key_id),
            )
            return bool(cursor.rowcount)

    def list_api_keys(self) -> list[ApiKeyRecord]:
        statement = f"SELECT {_KEY_COLUMNS} FROM consent_api_keys ORDER BY created_at"  # noqa: S608
        rows = self._query(statement)
        return [self._key_record(r) for r in rows]

    # --- console sessions ----------------------------------------------------------------------
    def add_console_session(self, session: ConsoleSessionRecord) -> None:
        with self._tx("storing a console session") as conn:
            self._execute(
                conn,
                "INSERT INTO consent_console_sessions (session_hash, key_id, created_at, "
                "expires_at) VALUES (?, ?, ?, ?)",
                (
                    session.session_hash,
                    session.key_id,
                    self._ts_in(session.created_at),
                    self._ts_in(session.expires_at),
                ),
            )

    def console_session(self, session_hash: str, now: datetime) -> ConsoleSessionRecord | None:
        rows = self._query(
            "SELECT key_id, created_at, expires_at FROM consent_console_sessions "
            "WHERE session_hash = ?",
            (session_hash,),
        )
        if not rows:
            return None
        key_id, created_at, expires_at = rows[0]
        session = ConsoleSessionRecord(
            session_hash, key_id, self._ts_out(created_at), self._ts_out(expires_at)
        )
        if session.expires_at <= now:
            self.end_console_session(session_hash)
            return None
        return session

    def end_console_session(self, session_hash: str) -> bool:
        with self._tx("ending a console session") as conn:
            cursor = self._execute(
                conn, "DELETE FROM consent_console_sessions WHERE session_hash = ?", (session_hash,)
            )
            return bool(cursor.rowcount)

    def purge_console_sessions(self, now: datetime) -> int:
        with self._tx("purging console sessions") as conn:
            cursor = self._execute(
                conn,
                "DELETE FROM consent_console_sessions WHERE expires_at <= ?",
                (self._ts_in(now),),
            )
            return int(cursor.rowcount)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._close_quietly()


class _SqlTransaction(StoreTransaction):
    def __init__(self, store: SqlConsentStore, conn: Any) -> None:
        self._store = store
        self._conn = conn

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self._store._execute(self._conn, statement, params)

    def get(self, consent_id: ConsentId, *, for_update: bool = False) -> ConsentRecord | None:
        suffix = self._store.for_update_clause if for_update else ""
        row = self._execute(
            f"SELECT body FROM consent_records WHERE consent_id = ?{suffix}",  # noqa: S608
            (consent_id,),
        ).fetchone()
        return ConsentRecord.model_validate_json(row[0]) if row else None

    def last_event_hash(self, consent_id: ConsentId) -> str | None:
        row = self._execute(
            "SELECT event_hash FROM consent_events WHERE consent_id = ? ORDER BY seq DESC LIMIT 1",
            (consent_id,),
        ).fetchone()
        return None if row is None else str(row[0])

    def append(self, event: ConsentEvent, message: ConsentChangeMessage) -> int:
        ts = self._store._ts_in
        self._store._lock_subject(self._conn, event.subject)
        body = event.model_dump_json(exclude={"seq"})
        cursor = self._execute(
            "INSERT INTO consent_events (event_id, consent_id, subject, change, actor, "
            "recorded_at, prev_hash, event_hash, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING seq",
            (
                event.event_id,
                event.consent_id,
                event.subject,
                event.change.value,
                event.actor,
                ts(event.recorded_at),
                event.prev_hash,
                event.event_hash,
                body,
            ),
        )
        seq = int(cursor.fetchone()[0])
        record = event.record
        self._execute(
            "INSERT INTO consent_records (consent_id, subject, controller, status, valid_from, "
            "valid_until, last_seq, last_event_hash, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (consent_id) DO UPDATE SET status = excluded.status, "
            "last_seq = excluded.last_seq, last_event_hash = excluded.last_event_hash, "
            "body = excluded.body",
            (
                record.id,
                record.subject,
                record.controller,
                record.status.value,
                ts(record.valid_from),
                ts(record.valid_until),
                seq,
                event.event_hash,
                record.model_dump_json(),
            ),
        )
        self._execute(
            "INSERT INTO consent_outbox (event_id, topic_key, body, created_at) "
            "VALUES (?, ?, ?, ?)",
            (event.event_id, event.subject, message.model_dump_json(), ts(event.recorded_at)),
        )
        return seq

    def identity(self, subject: ClientPseudonym) -> SubjectIdentity | None:
        return self._store._identity(self._conn, subject)

    def idempotent_grant(self, actor: str, key: str) -> IdempotentGrant | None:
        row = self._execute(
            "SELECT request_hash, consent_id, event_id, created_at "
            "FROM consent_idempotency_keys WHERE actor = ? AND idempotency_key = ?",
            (actor, key),
        ).fetchone()
        if row is None:
            return None
        return IdempotentGrant(
            actor=actor,
            key=key,
            request_hash=row[0],
            consent_id=ConsentId(row[1]),
            event_id=EventId(row[2]),
            created_at=self._store._ts_out(row[3]),
        )

    def put_idempotent_grant(self, grant: IdempotentGrant) -> None:
        self._execute(
            "INSERT INTO consent_idempotency_keys (actor, idempotency_key, request_hash, "
            "consent_id, event_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                grant.actor,
                grant.key,
                grant.request_hash,
                grant.consent_id,
                grant.event_id,
                self._store._ts_in(grant.created_at),
            ),
        )

    def put_identity(self, identity: SubjectIdentity) -> None:
        self._execute(
            "INSERT INTO consent_subject_identities (subject, bsn_ciphertext, bsn_lookup, "
            "recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?)",
            (
                identity.subject,
                identity.bsn_ciphertext,
                identity.bsn_lookup,
                self._store._ts_in(identity.recorded_at),
                identity.recorded_by,
            ),
        )
