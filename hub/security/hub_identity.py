"""Where this process's key store and subject keys live, and the hub's own identity.

* key store: ``settings.keys_dir``, or ``data_dir/keys`` when unset;
* the hub's identity: partner id ``hub`` in that key store; it signs what the router
  delivers, the audit chain, and is the identity partners verify inbox records against
  (a signer, not a Kafka principal: :data:`topics.catalogue.SERVICE_PRINCIPALS`);
* the consent service's identity ``consent-service`` (role ``consent-service``): it signs
  the consent change feed (:mod:`hub.security.consent_feed`);
* the key store's directory is verified on every read (signed by the hub, over the
  partner directory in effect: :func:`partners_digest`);
* subject keys (crypto-shredding) are not here: they live in the consent database, one
  store for every router replica and the consent service (:mod:`consent.subject_keys`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from hub.config import HubSettings
from hub.security.errors import KeyNotFound, KeyStoreError
from hub.security.keys import DEFAULT_VALIDITY, KeyRole, KeyStore, PartnerKeys, PartnersDigest
from topics.partners import load_partners

__all__ = [
    "HUB_ID",
    "OPERATIONS_ID",
    "ensure_hub_identity",
    "ensure_identity",
    "key_store",
    "keys_dir",
    "partners_digest",
]

HUB_ID = "hub"
OPERATIONS_ID = KeyRole.OPERATIONS.value
"""The hub operators' identity: hub-internal topics (dead letters, routing state) are
encrypted to it."""


def keys_dir(settings: HubSettings) -> Path:
    return settings.keys_dir if settings.keys_dir is not None else settings.data_dir / "keys"


def partners_digest(settings: HubSettings) -> PartnersDigest:
    """The partner directory in effect (``HUB_PARTNERS_FILE`` or the built-in one): its
    SHA-256 over every partner, canonical JSON, so the hub's directory signature binds it."""
    partners = load_partners(settings.partners_file)
    text = json.dumps(
        sorted((p.model_dump(mode="json") for p in partners), key=lambda p: str(p["id"])),
        sort_keys=True,
        separators=(",", ":"),
    )
    source = (
        f"{settings.partners_file} (HUB_PARTNERS_FILE)"
        if settings.partners_file is not None
        else "built-in topics/partners.json"
    )
    return PartnersDigest(source, hashlib.sha256(text.encode("utf-8")).hexdigest())


def key_store(settings: HubSettings, *, passphrase: SecretStr | None = None) -> KeyStore:
    """This process's key store: its directory verified on every read."""
    return KeyStore(
        keys_dir(settings), passphrase=passphrase, partners=partners_digest(settings), verify=True
    )


def ensure_identity(
    store: KeyStore, identity: str, *, valid_for: timedelta = DEFAULT_VALIDITY
) -> PartnerKeys:
    """The current private keys of one of the hub's own identities (``hub``,
    ``consent-service``), generated into ``store`` on first use (its role is its id).

    The hub's own key comes first: it signs the directory every identity is listed in."""
    if identity != HUB_ID:
        ensure_identity(store, HUB_ID, valid_for=valid_for)
    try:
        return store.private(identity)
    except KeyNotFound:
        with contextlib.suppress(KeyStoreError):  # another process made it at the same moment
            store.new(identity, valid_for=valid_for)
        return store.private(identity)


def ensure_hub_identity(store: KeyStore, *, valid_for: timedelta = DEFAULT_VALIDITY) -> PartnerKeys:
    """The hub's current private keys, generated into ``store`` on first use."""
    return ensure_identity(store, HUB_ID, valid_for=valid_for)
