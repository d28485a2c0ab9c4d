"""The citizen service number (BSN) at rest: encrypted, and findable by a keyed hash.

The register works with client pseudonyms. When a privacy officer records the BSN of a
subject too (to find the subject again from the BSN), it is stored

* encrypted with AES-256-GCM, the subject's pseudonym as associated data (a ciphertext
  copied to another subject does not decrypt), a fresh 96-bit nonce per encryption and
  a version byte for key rotation;
* as an HMAC-SHA256 under a separate key, for exact-match lookup without decrypting.

Both keys are derived (HKDF-SHA256) from one 32-byte master key: ``HUB_BSN_ENCRYPTION_KEY``
(urlsafe base64), or else a key generated once into ``data_dir/consent-bsn.key`` with
mode 0600 (:mod:`hub.keyfile`; sealed under ``HUB_KEYS_PASSPHRASE`` when set). The
eleven-test is in :mod:`schemas.identifiers`. A BSN is never logged: the service passes
it around as :class:`pydantic.SecretStr` and error messages never quote it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consent.errors import ConsentCryptoError
from hub.config import HubSettings
from hub.keyfile import KEY_BYTES, load_or_create_key, passphrase_of

__all__ = ["KEY_FILE_NAME", "BsnVault", "load_master_key"]

KEY_FILE_NAME = "consent-bsn.key"
_VERSION = b"\x01"
_NONCE_BYTES = 12


def load_master_key(settings: HubSettings) -> bytes:
    """The master key from ``HUB_BSN_ENCRYPTION_KEY``, or from (a newly generated)
    ``data_dir/consent-bsn.key``; :class:`hub.keyfile.KeyFileError` when unsafe or bad."""
    return load_or_create_key(
        settings.bsn_encryption_key,
        settings.data_dir / KEY_FILE_NAME,
        label="BSN encryption key",
        env="HUB_BSN_ENCRYPTION_KEY",
        passphrase=passphrase_of(settings),
    )


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


class BsnVault:
    """Encrypts, decrypts and hashes BSNs under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ConsentCryptoError(f"the BSN master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(_derive(master_key, b"rmt-hub consent bsn aes-gcm v1"))
        self._mac_key = _derive(master_key, b"rmt-hub consent bsn lookup v1")

    @classmethod
    def from_settings(cls, settings: HubSettings) -> BsnVault:
        return cls(load_master_key(settings))

    def __repr__(self) -> str:
        return "BsnVault(**********)"

    def encrypt(self, bsn: str, subject: str) -> bytes:
        """Version byte, nonce and AES-GCM ciphertext of ``bsn``, bound to ``subject``."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, bsn.encode(), subject.encode())

    def decrypt(self, blob: bytes, subject: str) -> str:
        if len(blob) <= 1 + _NONCE_BYTES or blob[:1] != _VERSION:
            raise ConsentCryptoError("not a BSN ciphertext of a known version")
        nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, subject.encode()).decode()
        except InvalidTag as exc:
            raise ConsentCryptoError(
                "a BSN ciphertext does not decrypt (wrong key, subject or corrupt)"
            ) from exc

    def lookup_hash(self, bsn: str) -> str:
        """HMAC-SHA256 (hex) of the normalised BSN: equal BSNs, equal hashes."""
        return hmac.new(self._mac_key, bsn.encode(), hashlib.sha256).hexdigest()
