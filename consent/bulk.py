"""Bulk withdrawal: every GIVEN consent naming a partner as recipient, or for a purpose,
withdrawn at once - after a preview the same officer confirms.

The preview stores the consents it matched under the SHA-256 of a random token (the
token itself is only returned) and holds for :data:`PREVIEW_TTL`. Executing it checks
that the officer is the one who previewed, that the preview has not expired and that
the selection still matches exactly the previewed consents (else: preview again); it
then marks the preview executed and withdraws each consent as a normal withdrawal (one
WITHDRAWN event on the change feed per consent). Executing it again is idempotent: the
same consents are withdrawn (again a no-op each) and the same result returned, so a
retry after a crash half-way finishes the rest. See docs/operations.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from consent.errors import ConsentConflict, ConsentInvalid, ConsentNotFound, Forbidden
from consent.model import PARTNER_ID_PATTERN, ConsentRecord, ConsentStatus
from consent.store import BulkPreview, ConsentStore
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.vocabulary import Purpose

__all__ = [
    "PREVIEW_TTL",
    "BulkOutcome",
    "BulkPlan",
    "BulkSelection",
    "execute",
    "preview",
]

PREVIEW_TTL = timedelta(minutes=15)
"""How long a preview can be executed."""


class BulkSelection(BaseModel):
    """Which consents: those naming ``recipient`` (by partner id) among their recipients,
    those for ``purpose``, or (both given) those doing both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipient: PartnerId | None = Field(
        default=None,
        pattern=PARTNER_ID_PATTERN,
        description="A partner id named as a recipient (consents naming only its kind are "
        "not selected: they also cover other partners).",
    )
    purpose: Purpose | None = None

    @model_validator(mode="after")
    def _something(self) -> BulkSelection:
        if self.recipient is None and self.purpose is None:
            raise ValueError("name a recipient, a purpose, or both")
        return self

    def matches(self, record: ConsentRecord) -> bool:
        if self.recipient is not None and not any(
            r.partner_id == self.recipient for r in record.recipients
        ):
            return False
        return self.purpose is None or self.purpose in record.purposes

    def canonical(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class BulkPlan:
    """A preview: the token to execute it with, and what it affects."""

    token: str
    expires_at: datetime
    selection: BulkSelection
    consent_ids: tuple[ConsentId, ...]
    subjects: tuple[ClientPseudonym, ...]


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """An executed bulk withdrawal."""

    selection: BulkSelection
    consent_ids: tuple[ConsentId, ...]
    reason: str | None
    executed_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _selected(
    store: ConsentStore, selection: BulkSelection, now: datetime
) -> Iterator[ConsentRecord]:
    for record in store.iter_records():
        if record.status_at(now) is ConsentStatus.GIVEN and selection.matches(record):
            yield record


def preview(
    store: ConsentStore, selection: BulkSelection, *, actor: str, now: datetime
) -> BulkPlan:
    """What withdrawing ``selection`` now affects, stored for ``actor`` to execute."""
    records = sorted(_selected(store, selection, now), key=lambda r: r.id)
    token = secrets.token_urlsafe(32)
    plan = BulkPlan(
        token=token,
        expires_at=now + PREVIEW_TTL,
        selection=selection,
        consent_ids=tuple(r.id for r in records),
        subjects=tuple(sorted({r.subject for r in records})),
    )
    store.add_bulk_preview(
        BulkPreview(
            token_hash=token_hash(token),
            actor=actor,
            selection=selection.canonical(),
            consent_ids=plan.consent_ids,
            created_at=now,
            expires_at=plan.expires_at,
        )
    )
    return plan


def execute(
    store: ConsentStore,
    token: str,
    *,
    actor: str,
    reason: str | None,
    now: datetime,
    withdraw_all: Callable[[Sequence[ConsentId], str | None], object],
) -> BulkOutcome:
    """Withdraw the consents of the preview of ``token`` (with ``withdraw_all(ids,
    reason)``, each as a normal withdrawal); idempotent. Refused when another officer
    previewed it, when it expired before it was executed, or when the selection no
    longer matches the preview."""
    digest = token_hash(token)
    stored = store.bulk_preview(digest)
    if stored is None:
        raise ConsentNotFound("no such bulk withdrawal preview; preview again")
    if stored.actor != actor:
        raise Forbidden("this preview was made by another officer; preview it yourself")
    selection = BulkSelection.model_validate_json(stored.selection)
    if stored.executed_at is None:
        if now >= stored.expires_at:
            raise ConsentInvalid("token", "the preview expired; preview again")
        current = tuple(sorted(r.id for r in _selected(store, selection, now)))
        if current != stored.consent_ids:
            raise ConsentConflict(
                "the selection changed since the preview "
                f"({len(stored.consent_ids)} then, {len(current)} now); preview again"
            )
        if store.start_bulk_withdrawal(digest, reason, now):
            stored = replace(stored, reason=reason, executed_at=now)
        else:  # a concurrent request executed it first
            again = store.bulk_preview(digest)
            assert again is not None
            stored = again
    if stored.reason != reason:
        raise ConsentInvalid(
            "reason", "this bulk withdrawal was executed with another reason; repeat that one"
        )
    withdraw_all(stored.consent_ids, stored.reason)
    assert stored.executed_at is not None
    return BulkOutcome(selection, stored.consent_ids, stored.reason, stored.executed_at)
