"""Record security in the router: verify and open what partners publish, seal what it writes.

One :class:`RouterSecurity` per worker (when :func:`hub.security.config.security_enabled`)
holds the hub's keys (:class:`~hub.security.pipeline.HubSecurity`), the replay guard, the
subject key store and the audit chainer, and does, per record:

* **inbound** (:meth:`RouterSecurity.open`): verify the signature against the *owner of
  the outbox* the record was read from (a record signed by another partner is
  SIGNER_MISMATCH, one without a signature UNSIGNED, ...), check the replay guard,
  decrypt. A refusal becomes a :class:`~hub.router.validation.Rejection` with the
  verdict's DeadLetterReason, dead-lettered like any other refused record.
* **replay guard**: event ids per (outbox, routing partition), each at the position
  (partition, offset) it was published at, also when the router moved the record to
  the partition its key hashes to (:mod:`hub.router.repartition`). A partition's guard
  is rebuilt when the partition is (re)loaded, from the outbox partition and the
  repartition partition (:meth:`RouterSecurity.remember`, called by the loader for every
  record routed there up to the high watermark): what the guard holds is a function of
  the log, so a restarted or newly assigned worker refuses exactly the replays the
  previous one would have, and re-reading records after the last commit is a
  redelivery, not a replay.
* **deliveries** (:meth:`RouterSecurity.protect`): special-category fields of records for
  an inbox are sealed with the subject's key (:meth:`seal_fields`, before encoding), the
  value is encrypted to the recipient's current key and the record signed by the hub
  (origin headers name the publisher); tombstones are signed. The delivery's disclosure
  travels inside the envelope (``rmt-enc-disclosure``, for the recipient) and as the
  router's own sealed copy (``rmt-hub-disclosure``, :class:`SelfSealer` under the
  operations key; :meth:`open_disclosure`), never in clear. The hub-internal topics
  (dead letters, routing state) are encrypted to the operators' key (``operations``)
  and signed; the loader opens routing state with it (:meth:`open_internal`), and the
  routing state's health-derived flags are sealed with the subject's key on top
  (:meth:`seal_fields`, :meth:`open_fields`).
* **audit** (:meth:`RouterSecurity.link_audit`): every audit record is hash-chained per
  partition and the entry hash signed by the hub; the chain of a partition resumes from
  the last record on the topic whenever the partition is loaded
  (:meth:`resume_audit`).
* **consent feed** (:meth:`RouterSecurity.verify_consent`): every consent change must be
  signed by the consent service (a key of role ``consent-service``,
  :mod:`hub.security.consent_feed`); the loader refuses anything else and checks the
  subject's chain of what it accepts.
* **erasure** (:meth:`shred`): when a consent that covered special-category data ends
  (withdrawn, expired), the subject's key is destroyed: every sealed field delivered
  about the subject, in every inbox and in the routing state, becomes unreadable for
  everyone. The keys live in the consent database, one store for every replica and the
  consent service, which grants them to entitled partners (:mod:`consent.subject_keys`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from consent.subject_keys import subject_key_store
from hub.config import HubSettings
from hub.router.codec import DISCLOSURE_HEADER
from hub.router.errors import RouterConfigError
from hub.router.processing import Inbound
from hub.router.validation import Rejection
from hub.sdk.security import open_sealed_fields, seal_record_fields
from hub.security.audit_chain import AuditChainer, AuditEntry, EntryCheck, follow
from hub.security.config import missing_keys, partner_key_store
from hub.security.consent_feed import ConsentFeedVerifier
from hub.security.envelope import EnvelopeDecryptor, SelfSealer, is_encrypted
from hub.security.errors import (
    AuditChainError,
    KeyServiceUnavailable,
    KeyStoreError,
    NotTheHubs,
    ShreddingError,
    SubjectKeyShredded,
)
from hub.security.headers import (
    CE_ID,
    ENC_DISCLOSURE,
    HUB_DISCLOSURE,
    HeaderList,
    header_text,
    header_value,
)
from hub.security.hub_identity import (
    HUB_ID,
    OPERATIONS_ID,
    ensure_hub_identity,
    ensure_identity,
)
from hub.security.keys import KeyStore
from hub.security.pipeline import HubSecurity, Opened
from hub.security.replay import ReplayGuard, position
from hub.security.shredding import SEALED_FIELD, FieldSealer, special_fields
from hub.security.signing import Verdict, VerdictReason
from schemas.loader import SchemaSet
from schemas.models import CanonicalRecord
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import SPECIAL_CATEGORIES
from topics.catalogue import TopicCatalogue
from topics.partners import PartnerDirectory

__all__ = ["RouterSecurity", "covers_special"]

_LOG = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]
R = TypeVar("R", bound=CanonicalRecord)


class RouterSecurity:
    """The hub's keys, replay guard, subject keys and audit chain, for one worker."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        catalogue: TopicCatalogue,
        directory: PartnerDirectory,
        schemas: SchemaSet,
    ) -> None:
        store = partner_key_store(settings)
        try:
            ensure_hub_identity(store)
        except KeyStoreError:  # another worker made it at the same moment
            store.private(HUB_ID)
        try:
            ensure_identity(store, OPERATIONS_ID)
        except KeyStoreError:
            store.private(OPERATIONS_ID)
        partners = [p.id for p in directory]
        missing = [p for p in missing_keys(store, partners) if p != HUB_ID]
        if missing:
            raise RouterConfigError(
                f"security is on, but these partners have no active key in {store.root}: "
                + ", ".join(missing)
                + " - run `rmt-hub keys new --partner <id>` for each (rmt-hub up creates "
                "them for every partner of the directory), or register their public keys"
            )
        self._store = store
        self._directory_mtime = _mtime(store.directory_path)
        self.guard = ReplayGuard()
        self.hub = HubSecurity.from_store(store, replay_guard=self.guard)
        self.consent = ConsentFeedVerifier(self.hub.directory)
        self.chainer = AuditChainer(store.private(HUB_ID))
        self.subject_keys = subject_key_store(settings)
        self.fields = FieldSealer(self.subject_keys)
        self._owner = {catalogue.outbox(p.id).name: p.id for p in directory}
        self._recipient = {catalogue.inbox(p.id).name: p.id for p in directory}
        self._internal = {catalogue.routing_state.name, catalogue.dead_letter.name}
        self._state_topic = catalogue.routing_state.name
        self._operations = EnvelopeDecryptor(store.private_keys(OPERATIONS_ID))
        self._self = _self_sealer(store)
        self._special: dict[str, tuple[str, ...]] = {}
        for name in schemas.messages():
            categories = schemas.field_categories(name)
            if SEALED_FIELD in categories:
                self._special[name] = tuple(
                    f for f in special_fields(categories) if f != SEALED_FIELD
                )
        self.shredded = 0

    def close(self) -> None:
        self.subject_keys.close()

    # --- the public directory ---------------------------------------------------------------------

    def reload_if_changed(self) -> bool:
        """Read the key store again if its directory changed (a rotation or revocation).

        The hub's own keys are read again too: after a rotation of the hub key, partners
        encrypt to the new one at once, and the router must hold it (and keep the old
        ones to decrypt what is still in flight).
        """
        mtime = _mtime(self._store.directory_path)
        if mtime == self._directory_mtime:
            return False
        try:
            hub = HubSecurity.from_store(self._store, replay_guard=self.guard)
            signer = self._store.private(HUB_ID)
        except KeyStoreError as exc:
            _LOG.error("the key store cannot be read (%s): keeping the keys held", exc)
            return False
        self.hub = hub
        self._operations = EnvelopeDecryptor(self._store.private_keys(OPERATIONS_ID))
        self._self = _self_sealer(self._store)
        self.consent.directory = hub.directory
        self.chainer.signer = signer
        self._directory_mtime = mtime
        _LOG.info("key store reloaded (the public directory changed)")
        return True

    # --- inbound ----------------------------------------------------------------------------------

    def publisher(self, topic: str) -> str:
        return self._owner[topic]

    def open(self, message: Inbound) -> tuple[Inbound, Verdict | Rejection]:
        """(the message with its plaintext value, the verdict) or (message, Rejection).

        A key the directory does not know is looked up again once, if the directory file
        changed (a partner's key registered just now, e.g. before an operator replays the
        records refused for it); KEY_UNKNOWN leaves the replay guard untouched."""
        opened = self._open_inbound(message)
        if opened.verdict.reason is VerdictReason.KEY_UNKNOWN and self.reload_if_changed():
            opened = self._open_inbound(message)
        verdict = opened.verdict
        if not verdict.ok:
            reason = DeadLetterReason(verdict.dead_letter_reason)
            return message, Rejection(reason, f"{reason.value}: {verdict.detail}")
        return replace(message, value=opened.value), verdict

    def _open_inbound(self, message: Inbound) -> Opened:
        return self.hub.open_inbound(
            topic=message.topic,
            key=message.key,
            value=message.value,
            headers=message.headers,
            publisher=self._owner[message.topic],
            partition=message.routing_partition,
            offset=position(message.partition, message.offset),
        )

    def remember(self, message: Inbound) -> None:
        """Feed one outbox record routed on this worker to the replay guard (rebuilding
        it while loading)."""
        self.hub.verify_inbound(
            topic=message.topic,
            key=message.key,
            value=message.value,
            headers=message.headers,
            publisher=self._owner[message.topic],
            partition=message.routing_partition,
            offset=position(message.partition, message.offset),
        )

    def forget(self, partition: int) -> None:
        """Drop the replay guard of ``partition`` (revoked, or about to be rebuilt)."""
        for topic in self._owner:
            self.guard.forget_partition(topic, partition)

    # --- the consent feed ------------------------------------------------------------------------

    def verify_consent(
        self, *, topic: str, key: bytes | None, value: bytes | None, headers: HeaderList
    ) -> Verdict:
        """The verdict on a consent change: signed by the consent service, unaltered. A key
        the directory does not know yet (the consent service made its key after this worker
        read the directory) is looked up again once."""
        verdict = self.consent.verify(topic=topic, key=key, value=value, headers=headers)
        if verdict.reason is VerdictReason.KEY_UNKNOWN and self.reload_if_changed():
            verdict = self.consent.verify(topic=topic, key=key, value=value, headers=headers)
        return verdict

    # --- outbound ---------------------------------------------------------------------------------

    def recipient(self, topic: str) -> str | None:
        """The partner whose inbox ``topic`` is (None for the hub's own topics)."""
        return self._recipient.get(topic)

    def seal_fields(self, record: CanonicalRecord, topic: str) -> CanonicalRecord:
        """``record`` with its special-category fields sealed with the subject's key, when
        it goes to an inbox or is a routing-state snapshot (its health-derived flags)."""
        names = self._special.get(record.avro_name)
        if not names or (topic not in self._recipient and topic != self._state_topic):
            return record
        return seal_record_fields(record, self.fields, names)

    def open_fields(self, record: R) -> R:
        """``record`` (read back from the routing state) with its sealed fields opened.

        The fields of a destroyed subject key are null (unknown: the subject's data is
        erased), and so are those of a token that does not open (logged).
        KeyServiceUnavailable when the key store cannot be read: a field is never taken
        for unknown because the database is down."""
        try:
            return open_sealed_fields(record, self.fields, on_shredded="raise")
        except KeyServiceUnavailable:
            raise
        except SubjectKeyShredded:
            pass
        except ShreddingError as exc:
            _LOG.warning(
                "%s of %s: a sealed field does not open (%s); taken as unknown",
                record.avro_name,
                getattr(record, "client_pseudonym", "?"),
                exc,
            )
        tokens: dict[str, str] = getattr(record, SEALED_FIELD, None) or {}
        unknown = {name: None for name in tokens if name in type(record).model_fields}
        return record.model_copy(update=unknown | {SEALED_FIELD: None})

    def protect(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        origin: Verdict | None = None,
    ) -> tuple[bytes | None, Headers]:
        """(value, headers) to write: encrypted and signed for an inbox (to its partner) or
        a hub-internal topic (to the operators), else signed."""
        recipient = self._recipient.get(topic)
        if recipient is None and topic in self._internal:
            return self.hub.seal_delivery(
                recipient=OPERATIONS_ID, topic=topic, key=key, value=value, headers=headers
            )
        if recipient is None:
            return value, self.hub.sign(topic=topic, key=key, value=value, headers=headers)
        if origin is not None and (not origin.ok or origin.signer is None):
            origin = None
        sealed: list[tuple[str, bytes]] = []
        disclosure = header_value(headers, DISCLOSURE_HEADER)
        if disclosure is not None:
            # the disclosure names categories and fields: inside the envelope for the
            # recipient, sealed for the hub itself as the loader's copy; never in clear
            headers = [(k, v) for k, v in headers if k != DISCLOSURE_HEADER]
            sealed.append((ENC_DISCLOSURE, disclosure))
            headers.append(
                (
                    HUB_DISCLOSURE,
                    self._self.seal(
                        HUB_DISCLOSURE,
                        topic=topic,
                        key=key,
                        event_id=header_text(headers, CE_ID) or "",
                        value=disclosure,
                    ),
                )
            )
        return self.hub.seal_delivery(
            recipient=recipient,
            topic=topic,
            key=key,
            value=value,
            headers=headers,
            origin=origin,
            sealed_headers=sealed,
        )

    def open_disclosure(self, topic: str, key: bytes | None, headers: HeaderList) -> bytes | None:
        """The router's copy of a delivery's disclosure (``rmt-hub-disclosure``), None when
        the record has none; EnvelopeError when it does not open (altered, moved, or
        written by anyone without the operations key)."""
        sealed = header_value(headers, HUB_DISCLOSURE)
        if sealed is None:
            return None
        event_id = header_text(headers, CE_ID) or ""
        return self._self.open(HUB_DISCLOSURE, sealed, topic=topic, key=key, event_id=event_id)

    def open_internal(
        self, topic: str, key: bytes | None, value: bytes | None, headers: HeaderList
    ) -> bytes | None:
        """The plaintext of a record of a hub-internal topic: NotTheHubs when the hub did
        not sign it (a record anyone else wrote there), EnvelopeError when it does not
        decrypt; one written before these topics were encrypted is returned as it is."""
        verdict = self.hub.verify_own(topic=topic, key=key, value=value, headers=headers)
        if not verdict.ok:
            raise NotTheHubs(f"{topic}: not the hub's record ({verdict.reason}: {verdict.detail})")
        if value is None or not is_encrypted(headers):
            return value
        return self._operations.decrypt(topic=topic, key=key, value=value, headers=headers)

    # --- the audit chain --------------------------------------------------------------------------

    def hub_audit_entry(self, entry: AuditEntry) -> bool:
        """Whether ``entry`` of the audit topic is the hub's own: chained, its bytes
        matching its hash, signed by the hub (a record anyone else wrote there is not,
        and the chain must never resume from it)."""
        followed, _ = follow(None, entry, directory=self.hub.directory)
        return followed.check is EntryCheck.VERIFIED

    def resume_audit(self, partition: int, last: HeaderList | None) -> None:
        """Continue ``partition``'s chain after its last record on the topic (None: empty)."""
        if last is None:
            self.chainer.resume(partition, None)
            return
        try:
            self.chainer.resume_from_headers(partition, last)
        except AuditChainError:
            _LOG.warning(
                "partition %d: the last audit record is not chained (written before the "
                "audit chain existed): a new chain starts after it",
                partition,
            )
            self.chainer.resume(partition, None)

    def link_audit(
        self, partition: int, key: bytes | None, value: bytes | None, headers: Headers
    ) -> Headers:
        return self.chainer.link(partition, key=key, value=value, headers=headers)

    # --- crypto-shredding -------------------------------------------------------------------------

    def shred(self, ended: Iterable[tuple[str, datetime]]) -> list[str]:
        """Destroy the key of each (subject, end of consent); returns the subjects whose
        keys died (the caller forgets their health-derived state too).

        Only a subject that still has a live key created at or before the consent ended
        loses it: when a partition is loaded again every ended consent is seen again, and
        a key made later (data delivered under a newer consent) must survive that.
        """
        latest: dict[str, datetime] = {}
        for subject, at in ended:
            latest[subject] = max(at, latest.get(subject, at))
        shredded: list[str] = []
        for subject, at in sorted(latest.items()):
            limit_ms = int(at.timestamp() * 1000)
            live = [k for k in self.subject_keys.keys_of(subject) if not k.destroyed]
            if not any(k.created_at_ms <= limit_ms for k in live):
                continue
            count = self.subject_keys.destroy(subject)
            _LOG.info("subject %s: %d key(s) destroyed (consent ended)", subject, count)
            self.shredded += count
            shredded.append(subject)
        return shredded


def covers_special(categories: Iterable[object]) -> bool:
    """Whether consented ``categories`` include a special category (health)."""
    special = {str(c) for c in SPECIAL_CATEGORIES}
    return any(str(c) in special for c in categories)


def _self_sealer(store: KeyStore) -> SelfSealer:
    """What the router seals for itself: under the operations identity, current key first."""
    current = store.private(OPERATIONS_ID)
    older = [k for k in store.private_keys(OPERATIONS_ID) if k.key_id != current.key_id]
    return SelfSealer([current, *older])


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
