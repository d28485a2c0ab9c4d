"""What the consent service needs from a store, whatever the database.

The register is event-sourced: every change is a row appended to ``consent_events``
(never updated or deleted; the database refuses it with a trigger) together with the
projection row in ``consent_records`` (the current state, rebuildable from the events)
and a row in ``consent_outbox`` - all in one transaction, so nothing is published that
was not committed and nothing committed is lost to the feed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from consent.model import (
    AuditChainState,
    AuditReject,
    ConsentChangeMessage,
    ConsentEvent,
    ConsentRecord,
    DisclosureRecord,
    Role,
)
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.security.shredding import WrappedSubjectKey

__all__ = [
    "ApiKeyRecord",
    "BulkPreview",
    "ConsentStore",
    "ConsoleSessionRecord",
    "IdempotentGrant",
    "OutboxRow",
    "StoreTransaction",
    "SubjectIdentity",
    "Window",
]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One change waiting for (or done with) the change feed."""

    seq: int
    event_id: EventId
    key: ClientPseudonym
    message: ConsentChangeMessage
    created_at: datetime
    published_at: datetime | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key's identity (the secret itself is stored only as a SHA-256)."""

    key_id: str
    name: str
    role: Role
    partner_id: PartnerId | None
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConsoleSessionRecord:
    """A console session the server holds: the SHA-256 of its secret, never the secret."""

    session_hash: str
    key_id: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SubjectIdentity:
    """The encrypted BSN of a subject and its lookup hash."""

    subject: ClientPseudonym
    bsn_ciphertext: bytes
    bsn_lookup: str
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class IdempotentGrant:
    """A grant made under an ``Idempotency-Key``: what a retry of it gets back."""

    actor: str
    key: str
    request_hash: str
    consent_id: ConsentId
    event_id: EventId
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BulkPreview:
    """A previewed bulk withdrawal: who previewed which selection, the consents it
    matched, until when the preview holds, and (once executed) the reason and when."""

    token_hash: str
    actor: str
    selection: str
    consent_ids: tuple[ConsentId, ...]
    created_at: datetime
    expires_at: datetime
    reason: str | None = None
    executed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ErasureAck:
    """A recipient confirmed it acted on an erasure notice (``notice_id``, the notice's
    event id): it erased what it received under ``consent_id`` at ``erased_at``."""

    notice_id: EventId
    subject: ClientPseudonym
    consent_id: ConsentId
    consent_event_id: EventId
    recipient: PartnerId
    erased_at: datetime
    recorded_at: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class Window:
    """What an export reads: one partner, one subject, a period (``since`` included,
    ``until`` not); None is no filter."""

    partner: PartnerId | None = None
    subject: ClientPseudonym | None = None
    since: datetime | None = None
    until: datetime | None = None


class StoreTransaction(ABC):
    """Reads and writes inside one database transaction (a unit of work)."""

    @abstractmethod
    def get(self, consent_id: ConsentId, *, for_update: bool = False) -> ConsentRecord | None:
        """The current state; ``for_update`` locks the row until the end of the transaction."""

    @abstractmethod
    def last_event_hash(self, consent_id: ConsentId) -> str | None:
        """Hash of the consent's latest event (the next one chains to it)."""

    @abstractmethod
    def append(self, event: ConsentEvent, message: ConsentChangeMessage) -> int:
        """Append the event, update the projection, queue the feed message; return its seq."""

    @abstractmethod
    def identity(self, subject: ClientPseudonym) -> SubjectIdentity | None: ...

    @abstractmethod
    def put_identity(self, identity: SubjectIdentity) -> None: ...

    @abstractmethod
    def idempotent_grant(self, actor: str, key: str) -> IdempotentGrant | None:
        """The grant ``actor`` made under ``key``, if any."""

    @abstractmethod
    def put_idempotent_grant(self, grant: IdempotentGrant) -> None:
        """Remember a grant's key (refused by the database when the key is taken)."""


class ConsentStore(ABC):
    """The consent register, the outbox, disclosures and API keys."""

    dialect: str
    """``sqlite`` or ``postgresql``."""

    @abstractmethod
    def migrate(self) -> list[int]:
        """Apply the migrations not applied yet, in order; return their versions."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """A write transaction: committed on normal exit, rolled back on an exception."""

    # --- the register ---------------------------------------------------------------------
    @abstractmethod
    def get(self, consent_id: ConsentId) -> ConsentRecord | None: ...

    @abstractmethod
    def for_subject(self, subject: ClientPseudonym) -> list[ConsentRecord]:
        """Every consent of the subject, oldest first (whatever its status)."""

    @abstractmethod
    def events(
        self, *, consent_id: ConsentId | None = None, subject: ClientPseudonym | None = None
    ) -> list[ConsentEvent]:
        """The history, in register order, of one consent, one subject, or (neither) all."""

    @abstractmethod
    def iter_records(self, batch: int = 1000) -> Iterator[ConsentRecord]:
        """Every consent in the projection (for statistics and rebuilding tables)."""

    @abstractmethod
    def due_expiries(self, now: datetime, limit: int = 100) -> list[ConsentId]:
        """GIVEN consents whose ``valid_until`` has passed but whose expiry is not recorded."""

    @abstractmethod
    def expiring(
        self,
        now: datetime,
        until: datetime,
        limit: int,
        after: tuple[datetime, ConsentId] | None = None,
    ) -> list[ConsentRecord]:
        """GIVEN consents whose ``valid_until`` is after ``now`` and at most ``until``,
        soonest first (then by id); ``after`` is the last (valid_until, id) of a page."""

    @abstractmethod
    def count_expiring(self, now: datetime, until: datetime) -> int:
        """How many consents :meth:`expiring` would list in all."""

    @abstractmethod
    def event_page(self, window: Window, after_seq: int, limit: int) -> list[ConsentEvent]:
        """Events after ``after_seq`` in register order, of ``window``'s subject and
        period (``recorded_at``); the partner is not filtered here."""

    @abstractmethod
    def status_counts(self, now: datetime) -> dict[str, int]:
        """Number of consents per status at ``now`` (aggregates only, for the monitor)."""

    @abstractmethod
    def subjects_by_bsn(self, bsn_lookup: str) -> list[ClientPseudonym]: ...

    @abstractmethod
    def identity(self, subject: ClientPseudonym) -> SubjectIdentity | None: ...

    # --- the outbox -----------------------------------------------------------------------
    @abstractmethod
    def pending_outbox(self, limit: int = 100) -> list[OutboxRow]:
        """Unpublished rows, oldest first."""

    @abstractmethod
    def outbox_row(self, event_id: EventId) -> OutboxRow | None: ...

    @abstractmethod
    def mark_published(
        self, event_id: EventId, topic: str, partition: int, offset: int, at: datetime
    ) -> bool:
        """Record where the row landed; False when it was marked already."""

    @abstractmethod
    def last_published_offset(self, topic: str, partition: int) -> int | None:
        """The highest offset the outbox recorded on ``topic``/``partition``."""

    @abstractmethod
    def event_at(self, topic: str, partition: int, offset: int) -> EventId | None:
        """The event the outbox recorded at this position of the topic."""

    @abstractmethod
    def previous_hash(self, event_id: EventId) -> str | None:
        """The hash of the subject's change before ``event_id`` in the register (None: it
        is the subject's first); the feed's chain link (:mod:`hub.security.consent_feed`)."""

    @abstractmethod
    def requeue(self, topic: str, partition: int) -> int:
        """Mark every row published to ``topic``/``partition`` unpublished again (the topic
        lost them); return how many."""

    @abstractmethod
    def acquire_lease(
        self, name: str, holder: str, now: datetime, ttl_s: float, *, steal_from: str | None = None
    ) -> bool:
        """Take or renew the named lease for ``holder``; False while another holds it.

        ``steal_from`` names a holder known to be dead: its lease is taken at once.
        """

    @abstractmethod
    def lease_holder(self, name: str) -> str | None: ...

    @abstractmethod
    def release_lease(self, name: str, holder: str) -> None: ...

    # --- disclosures ----------------------------------------------------------------------
    def add_disclosure(self, disclosure: DisclosureRecord) -> bool:
        """Store it; False when its id was stored already (idempotent)."""
        return self.add_disclosures([disclosure]) == 1

    @abstractmethod
    def add_disclosures(
        self,
        disclosures: list[DisclosureRecord],
        *,
        topic: str | None = None,
        offsets: dict[int, int] | None = None,
        rejects: Sequence[AuditReject] = (),
        chains: Sequence[AuditChainState] = (),
    ) -> int:
        """Store the new ones and (in the same transaction) the next offsets read from
        ``topic``, the audit records that did not verify and where each partition's chain
        is; return how many disclosures were new."""

    @abstractmethod
    def audit_chains(self, topic: str | None = None) -> list[AuditChainState]:
        """Where the chain of each partition of ``topic`` (every topic) was followed to."""

    @abstractmethod
    def audit_rejects_for(self, subject: ClientPseudonym) -> list[AuditReject]:
        """The audit records about ``subject`` that are not genuine hub entries."""

    @abstractmethod
    def ingest_offsets(self, topic: str) -> dict[int, int]:
        """partition -> next offset to read from ``topic`` (what was stored so far)."""

    @abstractmethod
    def disclosures_for(self, subject: ClientPseudonym) -> list[DisclosureRecord]: ...

    @abstractmethod
    def disclosure_page(
        self, window: Window, after_seq: int, limit: int
    ) -> list[tuple[int, DisclosureRecord]]:
        """(seq, disclosure) after ``after_seq`` in stored order, of ``window``'s partner
        (the recipient), subject and period (``disclosed_at``)."""

    # --- bulk withdrawals -----------------------------------------------------------------
    @abstractmethod
    def add_bulk_preview(self, preview: BulkPreview) -> None: ...

    @abstractmethod
    def bulk_preview(self, token_hash: str) -> BulkPreview | None: ...

    @abstractmethod
    def start_bulk_withdrawal(self, token_hash: str, reason: str | None, at: datetime) -> bool:
        """Mark the preview executed with ``reason``; False when it was already."""

    # --- erasure acknowledgements -----------------------------------------------------------
    @abstractmethod
    def add_erasure_ack(self, ack: ErasureAck) -> ErasureAck:
        """Store ``ack`` unless one of its notice is stored; return the stored one."""

    @abstractmethod
    def erasure_acks_for(self, subject: ClientPseudonym) -> list[ErasureAck]:
        """The acknowledgements of erasure notices about ``subject``."""

    # --- subject keys (hub.security.shredding.SubjectKeyRows) -----------------------------
    @abstractmethod
    def live_subject_key(self, subject: str) -> WrappedSubjectKey | None:
        """The subject's newest key that is not destroyed (None: it has none)."""

    @abstractmethod
    def add_subject_key(
        self, subject: str, make: Callable[[], WrappedSubjectKey]
    ) -> WrappedSubjectKey:
        """The subject's live key; when it has none, the one ``make`` returns, stored. One
        transaction holding the subject's lock: two processes never both make one."""

    @abstractmethod
    def subject_key_row(self, key_id: str) -> WrappedSubjectKey | None:
        """Key ``key_id`` (destroyed or not); None when there never was one."""

    @abstractmethod
    def subject_key_rows(self, subject: str) -> list[WrappedSubjectKey]:
        """Every key of the subject, oldest first."""

    @abstractmethod
    def destroy_subject_keys(self, subject: str, at_ms: int) -> int:
        """Overwrite every live key of the subject (kept as tombstones); how many."""

    @abstractmethod
    def import_subject_key(self, row: WrappedSubjectKey) -> bool:
        """Store a key made elsewhere (a migration); False when its id is stored already."""

    # --- API keys -------------------------------------------------------------------------
    @abstractmethod
    def add_api_key(self, record: ApiKeyRecord, key_hash: str) -> None: ...

    @abstractmethod
    def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None: ...

    @abstractmethod
    def revoke_api_key(self, key_id: str, at: datetime) -> bool: ...

    @abstractmethod
    def list_api_keys(self) -> list[ApiKeyRecord]: ...

    # --- console sessions -------------------------------------------------------------------
    @abstractmethod
    def add_console_session(self, session: ConsoleSessionRecord) -> None: ...

    @abstractmethod
    def console_session(self, session_hash: str, now: datetime) -> ConsoleSessionRecord | None:
        """The session while it lasts; an expired one is deleted and None returned."""

    @abstractmethod
    def end_console_session(self, session_hash: str) -> bool:
        """Delete the session (sign-out); False when there was none."""

    @abstractmethod
    def purge_console_sessions(self, now: datetime) -> int:
        """Delete every expired session; return how many."""

    @abstractmethod
    def close(self) -> None: ...
