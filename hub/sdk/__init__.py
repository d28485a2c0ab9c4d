"""The partner SDK: a hub client for one partner identity.

:class:`PartnerClient` publishes canonical records to the partner's outbox and reads its
inbox, in the Confluent wire format with CloudEvents headers, with deterministic event
ids (:mod:`hub.sdk.event_ids`), de-duplication against the outbox
(:mod:`hub.sdk.published`), acknowledgements of erasure notices to the consent service
(:mod:`hub.sdk.erasure`), client pseudonyms derived from the BSN
(:mod:`hub.sdk.pseudonym`) and record security (:mod:`hub.sdk.security`: outbox records
encrypted to the hub and signed, inbox records verified and decrypted; sealed health
fields opened with the subject keys the consent service grants while a consent entitles
the partner, :mod:`hub.sdk.subject_keys`). Partners that
run Kafka themselves use it directly; the connectors (:mod:`connectors`) use it for
partners that do not. Importing this package starts nothing.
"""

from __future__ import annotations

from hub.sdk.client import PartnerClient, PublishOutcome, PublishResult
from hub.sdk.erasure import ErasureAcknowledger
from hub.sdk.errors import (
    ForeignRecordError,
    NotPublishableError,
    PublishError,
    SdkError,
    UnknownPartnerError,
)
from hub.sdk.event_ids import EVENT_NAMESPACE, business_key, event_id_for, with_event_id
from hub.sdk.inbox import InboxMessage, InboxReader
from hub.sdk.pseudonym import Pseudonymiser, pseudonym_key
from hub.sdk.published import published_event_ids, scan_topic
from hub.sdk.security import MissingKeyError, open_sealed_fields
from hub.sdk.subject_keys import KeyServiceClient, consent_subject_keys
from hub.sdk.writer import RecordWriter
from hub.serde.canonical import CanonicalCodec, record_key

__all__ = [
    "EVENT_NAMESPACE",
    "CanonicalCodec",
    "ErasureAcknowledger",
    "ForeignRecordError",
    "InboxMessage",
    "InboxReader",
    "KeyServiceClient",
    "MissingKeyError",
    "NotPublishableError",
    "PartnerClient",
    "Pseudonymiser",
    "PublishError",
    "PublishOutcome",
    "PublishResult",
    "RecordWriter",
    "SdkError",
    "UnknownPartnerError",
    "business_key",
    "consent_subject_keys",
    "event_id_for",
    "open_sealed_fields",
    "pseudonym_key",
    "published_event_ids",
    "record_key",
    "scan_topic",
    "with_event_id",
]
