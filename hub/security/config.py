"""The one switch of record security, and the key store every process uses.

Record security (signing, per-recipient encryption, sealed special-category fields, the
hash-chained audit) is **on by default**. Two settings govern it:

* ``HUB_SECURITY_ENABLED`` (bool, default true): when false, partners publish and the
  router delivers plain CloudEvents records, as before issue 8. Turning it off makes
  every record readable by whoever can read the topic: for benchmarks and migrations
  only.
* ``HUB_KEYS_PASSPHRASE`` (secret, default unset): seals every secret file of the hub
  (private keys, the subject-key master key, the BSN master key; :mod:`hub.sealed`,
  scrypt) and opens sealed ones; older files (plain, or PKCS#8 under PBKDF2) are still
  read and sealed in place when first read with it.

Both are :class:`~hub.config.HubSettings` fields, read through
:func:`security_enabled` and :func:`keys_passphrase`.

:func:`ensure_keys` provisions the keys a single-machine hub needs: the hub's identity,
the consent service's (it signs the consent feed) and one key generation for every
partner of the directory that has no active key yet (``rmt-hub up``, the demo feed and
the tests call it). A partner that runs the SDK elsewhere generates its own keys and
hands the hub only the public part (``rmt-hub keys`` / :meth:`KeyStore.add_public`);
:func:`ensure_keys` never replaces a key that exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import SecretStr

from hub.config import HubSettings
from hub.keyfile import passphrase_of
from hub.security.consent_feed import CONSENT_SERVICE_ID
from hub.security.errors import KeyNotFound
from hub.security.hub_identity import HUB_ID, OPERATIONS_ID, ensure_identity, key_store
from hub.security.keys import KeyStore, PublicKeyRecord
from topics.partners import Partner

__all__ = [
    "ensure_keys",
    "keys_passphrase",
    "missing_keys",
    "partner_key_store",
    "security_enabled",
]


def security_enabled(settings: HubSettings) -> bool:
    """Whether records are signed and encrypted (``HUB_SECURITY_ENABLED``, default on)."""
    return settings.security_enabled


def keys_passphrase(settings: HubSettings) -> SecretStr | None:
    """The passphrase of the private key files (``HUB_KEYS_PASSPHRASE``), if any."""
    return passphrase_of(settings)


def partner_key_store(settings: HubSettings) -> KeyStore:
    """This process's key store (``keys_dir``, else ``data_dir/keys``), with the passphrase."""
    return key_store(settings, passphrase=keys_passphrase(settings))


def missing_keys(store: KeyStore, partners: Iterable[str]) -> list[str]:
    """The partners (and the hub) without an active, valid key in ``store``'s directory."""
    directory = store.directory()
    missing = []
    for partner_id in (HUB_ID, *partners):
        try:
            directory.current(partner_id)
        except KeyNotFound:
            missing.append(partner_id)
    return missing


def ensure_keys(settings: HubSettings, partners: Iterable[Partner]) -> list[PublicKeyRecord]:
    """Generate the hub's, the consent service's and the operators' identities and a key
    for every partner that has no active one.

    Returns the records created (empty when every identity already had a key). Never
    rotates or replaces a key; a partner whose only keys are revoked or expired gets a
    new one only through ``rmt-hub keys new``/``rotate`` (a revocation is deliberate).
    """
    store = partner_key_store(settings)
    created: list[PublicKeyRecord] = []
    for identity in (HUB_ID, CONSENT_SERVICE_ID, OPERATIONS_ID):
        if identity in missing_keys(store, (identity,)):
            ensure_identity(store, identity)
            created.append(store.directory().current(identity))
    for partner in partners:
        if store.directory().keys_of(partner.id):
            continue
        created.append(store.new(partner.id, kind=partner.kind, region=partner.region))
    return created
