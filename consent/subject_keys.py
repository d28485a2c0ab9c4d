"""The subject-key service: one store of subject keys for every router replica and the
consent service, and the grants that hand a key to an entitled partner.

**The store** (:func:`subject_key_store`) is the ``consent_subject_keys`` table of the
consent database (SQLite embedded, PostgreSQL in production; migration 8): every router
replica seals special-category fields with the same key per subject, and the consent
service hands out the very keys the routers use. Keys are wrapped at rest under the
master key ``HUB_SUBJECT_MASTER_KEY`` (a secret every replica shares; without it a key
file in the keys dir, generated once and sealed under ``HUB_KEYS_PASSPHRASE``,
:func:`hub.keyfile.load_or_create_key`). A per-process SQLite file of subject keys from
before (``data_dir/subject-keys.sqlite``) is imported once, then renamed ``.imported``.

**Grants** (:class:`SubjectKeyService`, ``GET /v1/subject-keys/{subject}/{key id}``): a
partner's system gets the key of a subject only while a consent entitles it to the
subject's special-category data (health), decided by the consent rules themselves
(:func:`consent.decision.decide`, for any purpose); the key travels wrapped to the
partner's current X25519 key of the signed key directory
(:func:`hub.security.shredding.wrap_subject_key`), so an API key alone opens nothing.
When the covering consent ends the grant is refused; once the router destroyed the key
(erasure) it is gone for everyone. The answer says how long the partner may keep the key
(:data:`GRANT_CACHE_S`); the SDK keeps it no longer.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.request import pathname2url

from consent.decision import Decision, compile_consent, decide
from consent.errors import ConsentConflict, ConsentNotFound, Forbidden, Gone
from consent.service import ConsentService
from consent.store import ConsentStore, store_for
from hub.config import HubSettings
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from hub.keyfile import load_or_create_key, passphrase_of
from hub.security.errors import (
    KeyNotFound,
    KeyStoreError,
    ShreddingError,
    SubjectKeyShredded,
    SubjectKeyUnknown,
)
from hub.security.hub_identity import keys_dir
from hub.security.keys import PublicDirectory
from hub.security.shredding import (
    SEALED_FIELD,
    SubjectKeyStore,
    WrappedSubjectKey,
    unwrap_at_rest,
    wrap_subject_key,
)
from schemas.vocabulary import DataCategory, Purpose

__all__ = [
    "GRANT_CACHE_S",
    "LEGACY_SUBJECT_KEYS_DB",
    "SEALED_CATEGORY",
    "SUBJECT_MASTER_KEY_FILE",
    "SubjectKeyGrant",
    "SubjectKeyService",
    "import_legacy_subject_keys",
    "special_entitlement",
    "subject_key_store",
    "subject_master_key",
]

_LOG = logging.getLogger(__name__)

SUBJECT_MASTER_KEY_FILE = "subject-keys.key"
"""The master key's file in the keys dir, when ``HUB_SUBJECT_MASTER_KEY`` is unset."""
LEGACY_SUBJECT_KEYS_DB = "subject-keys.sqlite"
"""The per-process store of before (in ``data_dir``), imported once."""
GRANT_CACHE_S = 60.0
"""How long a partner may keep a granted key (the SDK keeps it no longer): a withdrawal
or erasure reaches every partner's process within this time."""
SEALED_CATEGORY = DataCategory.HEALTH
"""The category of ``sealed_fields``: a grant needs a consent entitling the partner to it."""


def subject_master_key(settings: HubSettings) -> bytes:
    """The master key wrapping subject keys: ``HUB_SUBJECT_MASTER_KEY``, else the key file
    in the keys dir (generated once, sealed under the passphrase when one is set)."""
    return load_or_create_key(
        settings.subject_master_key,
        keys_dir(settings) / SUBJECT_MASTER_KEY_FILE,
        label="subject key master key",
        env="HUB_SUBJECT_MASTER_KEY",
        passphrase=passphrase_of(settings),
    )


def subject_key_store(
    settings: HubSettings, *, store: ConsentStore | None = None, cache_ttl_s: float = 30.0
) -> SubjectKeyStore:
    """The hub's subject keys in the consent database (``store``, else the configured one,
    opened and migrated here and closed with the key store); imports a per-process SQLite
    file of before on first use."""
    rows = store if store is not None else store_for(settings)
    try:
        keys = SubjectKeyStore(
            rows,
            subject_master_key(settings),
            cache_ttl_s=cache_ttl_s,
            on_close=rows.close if store is None else None,
        )
        import_legacy_subject_keys(settings, keys, rows)
    except BaseException:
        if store is None:
            rows.close()
        raise
    return keys


def import_legacy_subject_keys(
    settings: HubSettings, keys: SubjectKeyStore, rows: ConsentStore
) -> int:
    """Move the keys of ``data_dir/subject-keys.sqlite`` (the per-process store of before)
    into the consent database, tombstones included, then rename the file ``.imported``;
    returns how many keys were new. Keys wrapped under another master key (the key file,
    before ``HUB_SUBJECT_MASTER_KEY`` was set) are unwrapped with it and wrapped anew."""
    path = settings.data_dir / LEGACY_SUBJECT_KEYS_DB
    if not path.exists():
        return 0
    old_master = _legacy_master(settings, path)
    try:
        legacy = _legacy_rows(path)
    except sqlite3.Error as exc:
        if not path.exists():  # another process moved it in the meantime
            return 0
        raise ShreddingError(f"{path}: cannot read the subject keys of before: {exc}") from exc
    imported = 0
    for old in legacy:
        row = old
        if old.wrapped is not None:  # wrapped anew: the master key may differ now
            row = keys.wrap(unwrap_at_rest(old, old_master), created_at_ms=old.created_at_ms)
        imported += rows.import_subject_key(row)
    with contextlib.suppress(FileNotFoundError):  # another process finished first
        path.rename(path.with_name(path.name + ".imported"))
    _LOG.info("%s: %d subject key(s) moved into the consent database", path, imported)
    return imported


def _legacy_master(settings: HubSettings, legacy: Path) -> bytes:
    path = keys_dir(settings) / SUBJECT_MASTER_KEY_FILE
    if not path.exists():
        raise ShreddingError(
            f"{legacy} cannot be moved into the consent database: the master key it was "
            f"stored under ({path}) is gone"
        )
    return load_or_create_key(
        None,
        path,
        label="subject key master key (of the SQLite store of before)",
        env="(key file)",
        passphrase=passphrase_of(settings),
    )


def _legacy_rows(path: Path) -> list[WrappedSubjectKey]:
    db = sqlite3.connect(f"file:{pathname2url(str(path))}?mode=ro", uri=True)
    try:
        found = db.execute(
            "SELECT key_id, subject, wrapped, created_at_ms, destroyed_at_ms FROM subject_keys "
            "ORDER BY created_at_ms"
        ).fetchall()
    finally:
        db.close()
    return [
        WrappedSubjectKey(
            str(r[0]),
            str(r[1]),
            None if r[2] is None else bytes(r[2]),
            int(r[3]),
            None if r[4] is None else int(r[4]),
        )
        for r in found
    ]


def special_entitlement(
    service: ConsentService,
    subject: ClientPseudonym,
    partner_id: PartnerId,
    *,
    at: datetime | None = None,
) -> Decision | None:
    """The decision that lets ``partner_id`` receive the subject's sealed (health) data
    now, for some purpose; None when no purpose does. The consent rules decide
    (:func:`consent.decision.decide`), exactly as for a delivery."""
    partner = service.partner(partner_id)
    if partner is None:
        return None
    consents = [compile_consent(r) for r in service.store.for_subject(subject)]
    now = at or service.clock()
    for purpose in Purpose:
        decision = decide(
            consents,
            partner=partner_id,
            partner_kind=partner.kind,
            region=partner.region,
            purpose=purpose,
            categories=[SEALED_CATEGORY],
            now=now,
            policy=service.policy,
        )
        if decision.allowed:
            return decision
    return None


@dataclass(frozen=True)
class SubjectKeyGrant:
    """A subject key wrapped for one partner (the envelope of a grant: ``blob`` and the
    ``rmt-enc-*`` ``headers``), the consents it rests on, and how long it may be kept."""

    subject: ClientPseudonym
    key_id: str
    recipient: PartnerId
    recipient_key_id: str
    blob: bytes
    headers: tuple[tuple[str, bytes], ...]
    consent_ids: tuple[ConsentId, ...]
    cache_for_s: float


class SubjectKeyService:
    """Grants subject keys to the partners the consent rules entitle."""

    def __init__(
        self,
        service: ConsentService,
        keys: SubjectKeyStore,
        directory: Callable[[], PublicDirectory],
        *,
        cache_for_s: float = GRANT_CACHE_S,
    ) -> None:
        self.service = service
        self.keys = keys
        self._directory = directory
        self.cache_for_s = cache_for_s

    def grant(
        self, partner_id: PartnerId, subject: ClientPseudonym, key_id: str
    ) -> SubjectKeyGrant:
        """Key ``key_id`` of ``subject`` wrapped for ``partner_id``.

        Forbidden: no consent entitles the partner to the subject's sealed data now (so
        nothing says whether the key exists); ConsentNotFound: no such key of the
        subject; Gone: the key was destroyed; ConsentConflict: the partner has no current
        encryption key in the directory.
        """
        decision = special_entitlement(self.service, subject, partner_id)
        if decision is None:
            raise Forbidden(
                f"no consent entitles {partner_id} to the {SEALED_CATEGORY} data of subject "
                f"{subject} now: its {SEALED_FIELD} stay sealed"
            )
        try:
            key = self.keys.key(subject, key_id)
        except SubjectKeyUnknown:
            raise ConsentNotFound(f"subject {subject} has no key {key_id}") from None
        except SubjectKeyShredded:
            raise Gone(f"key {key_id} of subject {subject} was destroyed (erasure)") from None
        try:
            recipient = self._directory().current(partner_id)
        except (KeyNotFound, KeyStoreError) as exc:
            raise ConsentConflict(
                f"{partner_id} has no current encryption key in the key directory: {exc}"
            ) from None
        blob, headers = wrap_subject_key(key, recipient)
        return SubjectKeyGrant(
            subject=subject,
            key_id=key_id,
            recipient=partner_id,
            recipient_key_id=recipient.key_id,
            blob=blob,
            headers=tuple(headers),
            consent_ids=decision.consent_ids,
            cache_for_s=self.cache_for_s,
        )
