"""Security of the hub's records: identities, signatures, envelopes, shredding, audit.

One concern per module:

* :mod:`~hub.security.keys`: key pairs, key ids, validity, the key store and the public
  directory;
* :mod:`~hub.security.signing`: record signatures and the verdicts on them
  (:mod:`~hub.security.replay`: the replay guard);
* :mod:`~hub.security.envelope`: per-recipient encryption of values;
* :mod:`~hub.security.shredding`: special-category fields sealed with subject keys;
* :mod:`~hub.security.audit_chain`: the hash-chained audit trail
  (:mod:`~hub.security.audit_log` reads it back from Kafka);
* :mod:`~hub.security.acls`: Kafka ACLs from the topic catalogue;
* :mod:`~hub.security.pipeline`: the per-record steps of the SDK and the router;
* :mod:`~hub.security.headers`: the header names.

Importing this package starts nothing and reads no key.
"""

from __future__ import annotations

from hub.security.audit_chain import (
    AuditChainer,
    AuditEntry,
    BreakReason,
    ChainBreak,
    ChainHead,
    ChainReport,
    verify_chain,
)
from hub.security.envelope import DekPolicy, EnvelopeDecryptor, EnvelopeEncryptor, is_encrypted
from hub.security.errors import (
    AclError,
    AuditChainError,
    DecryptionFailed,
    EnvelopeError,
    KeyNotFound,
    KeyStoreError,
    NotEncrypted,
    NotForRecipient,
    SecurityError,
    ShreddingError,
    SigningError,
    SubjectKeyShredded,
    SubjectKeyUnknown,
)
from hub.security.hub_identity import HUB_ID, ensure_hub_identity, key_store
from hub.security.keys import KeyStatus, KeyStore, PartnerKeys, PublicDirectory, PublicKeyRecord
from hub.security.pipeline import HubSecurity, InboundRejected, Opened, PartnerSecurity
from hub.security.replay import ReplayGuard, ReplayResult
from hub.security.shredding import (
    SEALED_FIELD,
    CachedSubjectKeys,
    FieldSealer,
    SubjectKey,
    SubjectKeyProvider,
    SubjectKeyStore,
    sealed_field_schema,
    special_fields,
)
from hub.security.signing import RecordSigner, RecordVerifier, Verdict, VerdictReason

__all__ = [
    "HUB_ID",
    "SEALED_FIELD",
    "AclError",
    "AuditChainError",
    "AuditChainer",
    "AuditEntry",
    "BreakReason",
    "CachedSubjectKeys",
    "ChainBreak",
    "ChainHead",
    "ChainReport",
    "DecryptionFailed",
    "DekPolicy",
    "EnvelopeDecryptor",
    "EnvelopeEncryptor",
    "EnvelopeError",
    "FieldSealer",
    "HubSecurity",
    "InboundRejected",
    "KeyNotFound",
    "KeyStatus",
    "KeyStore",
    "KeyStoreError",
    "NotEncrypted",
    "NotForRecipient",
    "Opened",
    "PartnerKeys",
    "PartnerSecurity",
    "PublicDirectory",
    "PublicKeyRecord",
    "RecordSigner",
    "RecordVerifier",
    "ReplayGuard",
    "ReplayResult",
    "SecurityError",
    "ShreddingError",
    "SigningError",
    "SubjectKey",
    "SubjectKeyProvider",
    "SubjectKeyShredded",
    "SubjectKeyStore",
    "SubjectKeyUnknown",
    "Verdict",
    "VerdictReason",
    "ensure_hub_identity",
    "is_encrypted",
    "key_store",
    "sealed_field_schema",
    "special_fields",
    "verify_chain",
]
