"""The SDK's side of record security: seal what a partner publishes, open its inbox.

With security on (:func:`hub.security.config.security_enabled`, the default) a
:class:`~hub.sdk.client.PartnerClient`

* encrypts every outbox value to the hub's key and signs it with the partner's key
  (:meth:`PartnerSecurity.seal_outbound`): another partner reading the outbox sees
  ciphertext, and the hub refuses what the partner did not sign;
* signs (without encrypting) the dead letters it reports to the hub;
* verifies the hub's signature on every inbox record and decrypts it before decoding
  (:meth:`PartnerSecurity.open_inbound`), with the delivery's disclosure inside the
  envelope (``rmt-enc-disclosure``: ``InboxMessage.disclosure``); a record that fails
  comes back as an :class:`~hub.sdk.inbox.InboxMessage` with ``error`` set, like an
  undecodable one;
* with a subject key provider, opens the special-category fields the hub sealed
  (``sealed_fields``; :func:`open_sealed_fields`): the partner's provider asks the hub's
  key service (:mod:`hub.sdk.subject_keys`), which grants the key only while a consent
  entitles the partner to it. Without one they stay sealed: the fields are null and
  their tokens are in ``sealed_fields``.

The partner's keys come from the key store (``keys_dir``, else ``data_dir/keys``), see
:func:`hub.security.config.partner_key_store`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from hub.config import HubSettings
from hub.sdk.errors import SdkError
from hub.security.config import partner_key_store
from hub.security.errors import (
    KeyNotFound,
    KeyServiceUnavailable,
    SubjectKeyRefused,
    SubjectKeyShredded,
)
from hub.security.headers import HeaderList
from hub.security.pipeline import Opened, PartnerSecurity
from hub.security.shredding import SEALED_FIELD, FieldSealer
from schemas.models import CanonicalRecord

__all__ = [
    "MissingKeyError",
    "Protect",
    "open_sealed_fields",
    "partner_security",
    "seal_record_fields",
]

Protect = Callable[
    [str, bytes | None, bytes | None, list[tuple[str, bytes]]],
    tuple[bytes | None, list[tuple[str, bytes]]],
]
"""(topic, key, value, headers) -> (value, headers) to send: what sealing does to a record."""

R = TypeVar("R", bound=CanonicalRecord)

_LOG = logging.getLogger(__name__)


class MissingKeyError(SdkError):
    """Security is on, but the partner has no usable key in the key store."""


def partner_security(settings: HubSettings, partner_id: str) -> PartnerSecurity:
    """``partner_id``'s security from the key store; MissingKeyError with the fix if none."""
    store = partner_key_store(settings)
    try:
        return PartnerSecurity.from_store(store, partner_id)
    except KeyNotFound as exc:
        raise MissingKeyError(
            f"security is on but {partner_id} has no usable key in {store.root} ({exc}): "
            f"run `rmt-hub keys new --partner {partner_id}` (or `rmt-hub up`, which creates "
            "the keys of every partner of the directory)"
        ) from exc


def sealer(security: PartnerSecurity) -> Protect:
    """Encrypt to the hub and sign (for the outbox)."""

    def protect(
        topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> tuple[bytes | None, list[tuple[str, bytes]]]:
        return security.seal_outbound(topic=topic, key=key, value=value, headers=headers)

    return protect


def signer(security: PartnerSecurity) -> Protect:
    """Sign only (for records the hub reads in the clear, e.g. dead letters)."""

    def protect(
        topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> tuple[bytes | None, list[tuple[str, bytes]]]:
        return value, security.sign_outbound(topic=topic, key=key, value=value, headers=headers)

    return protect


def opener(security: PartnerSecurity) -> Callable[[Any], Opened]:
    """Verify and decrypt a kafka-python inbox record, and the disclosure inside its
    envelope (raises SecurityError)."""

    def open_record(raw: Any) -> Opened:
        headers: HeaderList = [(str(k), bytes(v or b"")) for k, v in raw.headers or ()]
        opened = security.open_inbound(
            topic=raw.topic,
            key=raw.key,
            value=raw.value,
            headers=headers,
            partition=raw.partition,
            offset=raw.offset,
        )
        return opened

    return open_record


def open_sealed_fields(
    record: R,
    fields: FieldSealer,
    *,
    on_shredded: Literal["raise", "null"] = "null",
) -> R:
    """``record`` with its sealed special-category fields opened (a copy).

    A record without ``sealed_fields`` comes back as it is. ``on_shredded="null"``
    leaves a field null when its subject key is destroyed (the data is gone) or its grant
    is refused (no consent entitles this partner to it now), and keeps a field sealed
    (null, its token still in ``sealed_fields``) while the key service cannot be asked;
    ``"raise"`` raises SubjectKeyShredded, SubjectKeyRefused or KeyServiceUnavailable.
    """
    tokens: dict[str, str] | None = getattr(record, SEALED_FIELD, None)
    subject = getattr(record, "client_pseudonym", None)
    if not tokens or subject is None:
        return record
    opened: dict[str, Any] = {}
    kept: dict[str, str] = {}
    for name, token in tokens.items():
        if name not in type(record).model_fields or name == SEALED_FIELD:
            continue
        try:
            opened[name] = fields.open_value(str(subject), name, token)
        except (SubjectKeyShredded, SubjectKeyRefused):
            if on_shredded == "raise":
                raise
            opened[name] = None
        except KeyServiceUnavailable as exc:
            if on_shredded == "raise":
                raise
            _LOG.warning("sealed field %s of %s stays sealed: %s", name, subject, exc)
            kept[name] = token
    opened[SEALED_FIELD] = kept or None
    return type(record).model_validate(record.model_dump(warnings=False) | opened)


def seal_record_fields(record: R, fields: FieldSealer, names: tuple[str, ...]) -> R:
    """``record`` with the non-null fields ``names`` moved into ``sealed_fields`` tokens."""
    subject = getattr(record, "client_pseudonym", None)
    if subject is None or not names:
        return record
    dumped = record.model_dump(mode="json", warnings=False)
    present = [name for name in names if dumped.get(name) is not None]
    if not present:
        return record
    tokens: dict[str, str] = dict(getattr(record, SEALED_FIELD, None) or {})
    update: dict[str, Any] = {}
    for name in present:
        tokens[name] = fields.seal_value(str(subject), name, dumped[name])
        update[name] = None
    update[SEALED_FIELD] = tokens
    return record.model_copy(update=update)
