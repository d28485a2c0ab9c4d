"""The record headers the security library reads and writes, and how to read them.

Signature (publisher or hub; :mod:`hub.security.signing`)::

    rmt-sig        base64 of the 64-byte Ed25519 signature
    rmt-sig-key    key id (32 hex digits) of the signing key in the public directory
    rmt-sig-alg    ``ed25519/v1``: algorithm and version of the canonical signed bytes
    rmt-sig-time   signing time, integer milliseconds since the Unix epoch (UTC)

Envelope encryption (the hub, for one recipient; :mod:`hub.security.envelope`)::

    rmt-enc-alg    ``x25519-hkdf-sha256/aes-256-gcm/v1``
    rmt-enc-key    key id of the recipient key the data key is wrapped for
    rmt-enc-dek    base64 of the wrapped data key (DEK id, ephemeral X25519 key, wrap)

What a delivery disclosed (the router; its DisclosureEvent as bare Avro), never in the
clear on an inbox (:mod:`hub.security.envelope`)::

    rmt-enc-disclosure    for the recipient: encrypted under the delivery's data key
    rmt-hub-disclosure    the router's own copy (for recovery): sealed for the operations
                          identity (SelfSealer)

Origin of a delivered record (the hub copies them from the verified inbound record, so
the recipient sees who published what; covered by the hub's signature)::

    rmt-origin-source     partner id of the publisher
    rmt-origin-event      event id of the published record
    rmt-origin-sig-key    key id the publisher signed with

Audit chain (the hub, on the disclosure topic; :mod:`hub.security.audit_chain`)::

    rmt-audit-seq   position in the partition's chain, 0, 1, 2, ... (decimal)
    rmt-audit-prev  hex SHA-256 of the previous entry (64 zeros for the first)
    rmt-audit-hash  hex SHA-256(prev || canonical entry bytes)
    rmt-audit-key   key id of the hub key that signed the entry hash (optional)
    rmt-audit-sig   base64 Ed25519 signature over the entry hash (optional)

Consent change feed (the consent service; :mod:`hub.security.consent_feed`)::

    rmt-consent-prev  the ``record_hash`` of the subject's previous change on the feed
                      (absent on the subject's first change)

Header names are matched exactly (Kafka header names are case-sensitive); a record that
repeats one of these names, or a CloudEvents header, is refused as ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "AUDIT_HASH",
    "AUDIT_KEY",
    "AUDIT_PREV",
    "AUDIT_SEQ",
    "AUDIT_SIG",
    "CE_ID",
    "CE_SOURCE",
    "CE_TYPE",
    "CONSENT_PREV",
    "ENC_ALG",
    "ENC_DEK",
    "ENC_DISCLOSURE",
    "ENC_KEY",
    "HUB_DISCLOSURE",
    "ORIGIN_EVENT",
    "ORIGIN_SIG_KEY",
    "ORIGIN_SOURCE",
    "SECURITY_PREFIX",
    "SIG",
    "SIG_ALG",
    "SIG_HEADERS",
    "SIG_KEY",
    "SIG_TIME",
    "AmbiguousHeader",
    "HeaderList",
    "header_text",
    "header_value",
    "replace_headers",
]

HeaderList = Sequence[tuple[str, bytes]]

SECURITY_PREFIX = "rmt-"

SIG = "rmt-sig"
SIG_KEY = "rmt-sig-key"
SIG_ALG = "rmt-sig-alg"
SIG_TIME = "rmt-sig-time"
SIG_HEADERS = frozenset({SIG, SIG_KEY, SIG_ALG, SIG_TIME})

ENC_ALG = "rmt-enc-alg"
ENC_KEY = "rmt-enc-key"
ENC_DEK = "rmt-enc-dek"
ENC_DISCLOSURE = "rmt-enc-disclosure"
HUB_DISCLOSURE = "rmt-hub-disclosure"

ORIGIN_SOURCE = "rmt-origin-source"
ORIGIN_EVENT = "rmt-origin-event"
ORIGIN_SIG_KEY = "rmt-origin-sig-key"

AUDIT_SEQ = "rmt-audit-seq"
AUDIT_PREV = "rmt-audit-prev"
AUDIT_HASH = "rmt-audit-hash"
AUDIT_KEY = "rmt-audit-key"
AUDIT_SIG = "rmt-audit-sig"

CONSENT_PREV = "rmt-consent-prev"

CE_ID = "ce_id"
CE_SOURCE = "ce_source"
CE_TYPE = "ce_type"


class AmbiguousHeader(ValueError):
    """A header that must appear at most once appears several times."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"header {name!r} appears more than once")


def header_value(headers: HeaderList | None, name: str) -> bytes | None:
    """The value of header ``name``, None when absent; AmbiguousHeader when repeated."""
    found: bytes | None = None
    seen = False
    for key, value in headers or ():
        if key == name:
            if seen:
                raise AmbiguousHeader(name)
            seen = True
            found = bytes(value) if value is not None else b""
    return found


def header_text(headers: HeaderList | None, name: str) -> str | None:
    """:func:`header_value` decoded as ASCII/UTF-8 (None when absent or not UTF-8)."""
    raw = header_value(headers, name)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def replace_headers(
    headers: HeaderList | None, new: Iterable[tuple[str, bytes]]
) -> list[tuple[str, bytes]]:
    """``headers`` without any header named in ``new``, followed by ``new``."""
    additions = list(new)
    names = {name for name, _ in additions}
    kept = [(k, bytes(v) if v is not None else b"") for k, v in headers or () if k not in names]
    return kept + additions
