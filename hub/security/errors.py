"""Errors of the security library: keys, signatures, envelopes, shredding, audit chains.

    SecurityError (hub.errors.HubError)
    ├── KeyStoreError          the key store on disk: missing, malformed, unsafe permissions
    │   └── KeyNotFound        no such key id / no current key for a partner
    ├── SigningError           a record cannot be signed (no usable key, bad headers)
    ├── EnvelopeError          a payload cannot be encrypted or decrypted
    │   ├── NotEncrypted       the record carries no envelope headers
    │   ├── NotForRecipient    it is encrypted to a key this reader does not hold
    │   └── DecryptionFailed   tampered ciphertext, headers or binding (topic, key, event id)
    ├── ShreddingError         sealed (crypto-shreddable) fields
    │   ├── SubjectKeyShredded the subject's key was destroyed: the data is gone for good
    │   ├── SubjectKeyUnknown  a token names a key the store never had
    │   ├── SubjectKeyRefused  the key service refuses the grant: no consent entitles you
    │   └── KeyServiceUnavailable  the key service did not answer (try again later)
    ├── AuditChainError        audit entries cannot be chained (bad state or headers)
    └── AclError               ACLs cannot be rendered from the topic catalogue

Errors of the ``cryptography`` package (``InvalidSignature``, ``InvalidTag``,
``ValueError`` on malformed keys) are translated where they enter this package. No
message ever contains key material or plaintext.
"""

from __future__ import annotations

from hub.errors import HubError

__all__ = [
    "AclError",
    "AuditChainError",
    "DecryptionFailed",
    "EnvelopeError",
    "KeyNotFound",
    "KeyServiceUnavailable",
    "KeyStoreError",
    "NotEncrypted",
    "NotForRecipient",
    "NotTheHubs",
    "SecurityError",
    "ShreddingError",
    "SigningError",
    "SubjectKeyRefused",
    "SubjectKeyShredded",
    "SubjectKeyUnknown",
]


class SecurityError(HubError):
    """Root of the security library's errors."""


class KeyStoreError(SecurityError):
    """The key store on disk is missing, malformed or stored with unsafe permissions."""


class KeyNotFound(KeyStoreError):
    """No key with this id, or no current key for this partner."""


class SigningError(SecurityError):
    """A record cannot be signed."""


class NotTheHubs(SecurityError):
    """A record on a hub-internal topic that the hub did not sign."""


class EnvelopeError(SecurityError):
    """A payload cannot be encrypted or decrypted."""


class NotEncrypted(EnvelopeError):
    """The record carries no envelope headers (``rmt-enc-*``)."""


class NotForRecipient(EnvelopeError):
    """The record is encrypted to a key this reader does not hold: ciphertext only."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"the record is encrypted to key {key_id}, which this reader lacks")


class DecryptionFailed(EnvelopeError):
    """Authentication failed: ciphertext, wrapped key, topic, key or event id was altered."""


class ShreddingError(SecurityError):
    """A problem with sealed special-category fields or the subject key store."""


class SubjectKeyShredded(ShreddingError):
    """The subject's key was destroyed (consent withdrawn or erasure): nobody can decrypt."""

    def __init__(self, subject: str, key_id: str | None = None) -> None:
        self.subject = subject
        self.key_id = key_id
        which = f" (key {key_id})" if key_id else ""
        super().__init__(f"the key of subject {subject}{which} has been destroyed")


class SubjectKeyUnknown(ShreddingError):
    """A sealed token names a subject key the store never had."""


class SubjectKeyRefused(ShreddingError):
    """The key service refused a grant of the subject's key: no consent entitles the
    asking partner to the subject's special-category data now (never given, withdrawn,
    expired)."""

    def __init__(self, subject: str, key_id: str | None, reason: str) -> None:
        self.subject = subject
        self.key_id = key_id
        self.reason = reason
        super().__init__(f"the key of subject {subject} is not granted: {reason}")


class KeyServiceUnavailable(ShreddingError):
    """The key service could not be asked (down, unreachable, an unexpected answer): the
    sealed fields stay sealed for now."""


class AuditChainError(SecurityError):
    """Audit entries cannot be chained."""


class AclError(SecurityError):
    """ACLs cannot be rendered from the topic catalogue."""
