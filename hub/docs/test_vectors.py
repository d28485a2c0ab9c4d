"""Test vectors of the partner protocol (docs/partner-protocol.md), made by the hub's code.

:func:`build_test_vectors` runs the Python implementation - the SDK's and the router's
security, the pseudonymiser, the event ids - on fixed inputs: keys from fixed seeds, a
fixed signing time, and a deterministic stand-in for the random source (each vector lists
the "random" bytes it consumed, in order, as inputs). Every value is deterministic, so
``rmt-hub docs test-vectors`` writes the same files every time and a test compares them
with ``docs/test-vectors/``: the document and the code cannot drift apart. An
implementation in another language checks itself by recomputing every output from the
inputs, and by opening and verifying the outputs with the keys.

Encodings in the files: ``*_hex`` lowercase hex, ``*_b64`` standard base64; headers are
``[name, value]`` pairs in order, values as UTF-8 text where the protocol says they are
text; ``null`` is an absent value or key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from hub.sdk.event_ids import EVENT_NAMESPACE, business_key, derive_event_id, event_id_for
from hub.sdk.pseudonym import DEVELOPMENT_PSEUDONYM_KEY, Pseudonymiser
from hub.security.envelope import (
    ENVELOPE_ALGORITHM,
    EnvelopeEncryptor,
    derive_kek,
    header_aad,
    record_aad,
    wrap_aad,
)
from hub.security.headers import ENC_DISCLOSURE, HeaderList
from hub.security.keys import PartnerKeys, PublicDirectory, PublicKeyRecord
from hub.security.pipeline import HubSecurity, PartnerSecurity
from hub.security.shredding import (
    TOKEN_PREFIX,
    FieldSealer,
    SubjectKey,
    sealed_field_aad,
    wrap_subject_key,
)
from hub.security.signing import SIGNATURE_ALGORITHM, RecordSigner, signed_bytes
from hub.serde.canonical import cloud_event_headers
from hub.serde.wire import frame
from schemas import codec
from schemas.examples import example
from schemas.models import ClientProfile, DisclosureEvent
from schemas.vocabulary import PartnerKind

__all__ = ["FILES", "build_test_vectors", "directory_of", "render"]

SIGNED_AT_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: the signing time of every vector."""
NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2099, 1, 1, tzinfo=UTC)
OUTBOX = "rmt.partner.uwv.outbox"
INBOX = "rmt.partner.gemeente-amsterdam.inbox"
SCHEMA_ID = 7
"""The registry id the example record is framed with (any id the registry gave)."""

FILES = (
    "keys.json",
    "signatures.json",
    "envelopes.json",
    "records.json",
    "sealed-fields.json",
    "subject-key-grants.json",
    "disclosures.json",
    "pseudonyms.json",
    "event-ids.json",
)


class Stream:
    """The deterministic stand-in for ``os.urandom``: SHA-256(label | counter) blocks;
    remembers what it gave, so a vector can list it as an input."""

    def __init__(self, label: str) -> None:
        self._label = label.encode("utf-8")
        self._counter = 0
        self.given: list[bytes] = []

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self._label + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        self.given.append(out[:n])
        return out[:n]

    def take(self) -> list[str]:
        """The bytes given since the last call, as hex (and forget them)."""
        given, self.given = self.given, []
        return [b.hex() for b in given]


def _seed(name: str, use: str) -> bytes:
    return hashlib.sha256(f"rmt-hub/test-vector-key/{name}/{use}".encode()).digest()


def _keys(name: str) -> PartnerKeys:
    return PartnerKeys(
        name,
        Ed25519PrivateKey.from_private_bytes(_seed(name, "signing")),
        X25519PrivateKey.from_private_bytes(_seed(name, "encryption")),
    )


_IDENTITIES: dict[str, PartnerKind | None] = {
    "hub": None,
    "uwv": PartnerKind.UWV,
    "gemeente-amsterdam": PartnerKind.GEMEENTE,
}


def _record(keys: PartnerKeys) -> PublicKeyRecord:
    return keys.public_record(
        not_before=NOT_BEFORE, not_after=NOT_AFTER, kind=_IDENTITIES[keys.partner_id]
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _headers(headers: HeaderList) -> list[list[str]]:
    return [[name, value.decode("utf-8")] for name, value in headers]


def _hex(data: bytes | None) -> str | None:
    return None if data is None else data.hex()


def _clock() -> float:
    return SIGNED_AT_MS / 1000


def _key_vectors(keys: dict[str, PartnerKeys]) -> dict[str, Any]:
    label = b"rmt-hub/key-id/v1"
    return {
        "description": "Identities of the other vectors: Ed25519 and X25519 private keys "
        "(32-byte seeds / scalars) and their public directory entries. key_id = hex of the "
        "first 16 bytes of SHA-256(label | Ed25519 public | X25519 public); label is the "
        "ASCII text, not length-prefixed.",
        "key_id_label": label.decode("ascii"),
        "identities": [
            {
                "partner_id": k.partner_id,
                "signing_private_key_hex": _seed(k.partner_id, "signing").hex(),
                "encryption_private_key_hex": _seed(k.partner_id, "encryption").hex(),
                "signing_public_key_b64": _b64(k.signing_public_bytes()),
                "encryption_public_key_b64": _b64(k.encryption_public_bytes()),
                "key_id_input_hex": (
                    label + k.signing_public_bytes() + k.encryption_public_bytes()
                ).hex(),
                "key_id": k.key_id,
                "directory_entry": json.loads(_record(k).model_dump_json()),
            }
            for k in keys.values()
        ],
    }


def _signature_case(
    name: str, signer: PartnerKeys, topic: str, key: bytes | None, value: bytes | None
) -> dict[str, Any]:
    headers: list[tuple[str, bytes]] = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"0b9c7e0c-2f51-5d2e-9d0c-6a1e1f5b1c11"),
        ("ce_source", signer.partner_id.encode()),
        ("ce_type", b"nl.rmt.hub.Referral"),
        ("ce_time", b"2026-01-01T00:00:00.000Z"),
        ("content-type", b"application/avro"),
        ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ]
    signed = RecordSigner(signer, clock=_clock).sign(
        topic=topic, key=key, value=value, headers=headers
    )
    data = signed_bytes(
        topic=topic,
        key=key,
        value=value,
        key_id=signer.key_id,
        signed_at_ms=SIGNED_AT_MS,
        headers=headers,
    )
    return {
        "name": name,
        "signer": signer.partner_id,
        "topic": topic,
        "key_hex": _hex(key),
        "value_hex": _hex(value),
        "headers": _headers(headers),
        "signed_at_ms": SIGNED_AT_MS,
        "signed_bytes_hex": data.hex(),
        "signature_b64": dict(signed)["rmt-sig"].decode("ascii"),
        "headers_out": _headers(signed),
    }


def _signature_vectors(keys: dict[str, PartnerKeys]) -> dict[str, Any]:
    return {
        "description": f"Record signatures ({SIGNATURE_ALGORITHM}): Ed25519 over "
        "signed_bytes (docs/partner-protocol.md#signatures). The traceparent header is not "
        "covered; the ce_*, content-type and rmt-* headers (but the four rmt-sig*) are.",
        "cases": [
            _signature_case(
                "an outbox record, value in the clear",
                keys["uwv"],
                OUTBOX,
                b"psn-0123456789abcdef0123456789abcdef",
                bytes.fromhex("00000000070a68656c6c6f"),
            ),
            _signature_case(
                "a tombstone (null value) signed by the hub",
                keys["hub"],
                INBOX,
                b"psn-0123456789abcdef0123456789abcdef",
                None,
            ),
        ],
    }


def _envelope_case(
    name: str,
    encryptor: EnvelopeEncryptor,
    stream: Stream,
    recipient: PartnerKeys,
    *,
    topic: str,
    key: bytes | None,
    value: bytes,
    event_id: str,
) -> dict[str, Any]:
    public = _record(recipient)
    stream.take()
    ciphertext, headers = encryptor.encrypt(
        public, topic=topic, key=key, value=value, event_id=event_id
    )
    randoms = stream.take()
    blob = base64.b64decode(dict(headers)["rmt-enc-dek"])
    dek_id, ephemeral_pub = blob[1:17], blob[17:49]
    case: dict[str, Any] = {
        "name": name,
        "recipient": recipient.partner_id,
        "recipient_key_id": recipient.key_id,
        "topic": topic,
        "key_hex": _hex(key),
        "event_id": event_id,
        "plaintext_hex": value.hex(),
        "random_hex": randoms,
    }
    if len(randoms) == 5:  # a new data key: DEK, DEK id, ephemeral key, wrap nonce, nonce
        dek, _, ephemeral_private, wrap_nonce, nonce = (bytes.fromhex(r) for r in randoms)
        shared = X25519PrivateKey.from_private_bytes(ephemeral_private).exchange(
            X25519PublicKey.from_public_bytes(recipient.encryption_public_bytes())
        )
        recipient_pub = recipient.encryption_public_bytes()
        case |= {
            "dek_hex": dek.hex(),
            "dek_id_hex": dek_id.hex(),
            "ephemeral_private_key_hex": ephemeral_private.hex(),
            "ephemeral_public_key_hex": ephemeral_pub.hex(),
            "shared_secret_hex": shared.hex(),
            "kek_salt_hex": (ephemeral_pub + recipient_pub).hex(),
            "kek_info_hex": (b"rmt-hub/dek-wrap/v1" + recipient.key_id.encode()).hex(),
            "kek_hex": derive_kek(shared, ephemeral_pub, recipient_pub, recipient.key_id).hex(),
            "wrap_nonce_hex": wrap_nonce.hex(),
            "wrap_aad_hex": wrap_aad(dek_id, recipient.key_id).hex(),
        }
    else:  # the live data key again: only a record nonce
        (nonce,) = (bytes.fromhex(r) for r in randoms)
        case["reuses_dek_of"] = "the case before"
    case |= {
        "nonce_hex": nonce.hex(),
        "record_aad_hex": record_aad(topic, key, event_id, dek_id, recipient.key_id).hex(),
        "headers_out": _headers(headers),
        "ciphertext_hex": ciphertext.hex(),
    }
    return case


def _envelope_vectors(keys: dict[str, PartnerKeys]) -> dict[str, Any]:
    stream = Stream("rmt-hub/test-vectors/envelopes")
    encryptor = EnvelopeEncryptor(random=stream)
    key = b"psn-0123456789abcdef0123456789abcdef"
    common: dict[str, Any] = {"encryptor": encryptor, "stream": stream, "key": key}
    return {
        "description": f"Envelope encryption ({ENVELOPE_ALGORITHM}). random_hex: the random "
        "bytes drawn, in order (new data key: DEK 32, DEK id 16, ephemeral X25519 private "
        "key 32, wrap nonce 12, record nonce 12; data key reused: record nonce 12). "
        "ciphertext = nonce | AES-256-GCM(DEK, nonce, plaintext, record_aad) (tag last).",
        "cases": [
            _envelope_case(
                "an outbox value for the hub (a new data key)",
                recipient=keys["hub"],
                topic=OUTBOX,
                value=b"\x00\x00\x00\x00\x07hello",
                event_id="7d3c2a5e-1b4f-5c6d-8e9f-0a1b2c3d4e5f",
                **common,
            ),
            _envelope_case(
                "the next outbox value for the hub (the data key reused)",
                recipient=keys["hub"],
                topic=OUTBOX,
                value=b"\x00\x00\x00\x00\x07again",
                event_id="8e4d3b6f-2c5a-5d7e-9fa0-1b2c3d4e5f60",
                **common,
            ),
            _envelope_case(
                "an inbox value for a partner (a new data key for its key)",
                recipient=keys["gemeente-amsterdam"],
                topic=INBOX,
                value=b"\x00\x00\x00\x00\x07inbox",
                event_id="9f5e4c70-3d6b-5e8f-a0b1-2c3d4e5f6071",
                **common,
            ),
        ],
    }


def _profile() -> ClientProfile:
    base = example("ClientProfile")
    assert isinstance(base, ClientProfile)
    return base


def _record_vectors(keys: dict[str, PartnerKeys], directory: PublicDirectory) -> dict[str, Any]:
    profile = _profile()
    key = profile.client_pseudonym.encode("utf-8")
    plain = frame(SCHEMA_ID, codec.encode(profile))
    ce = cloud_event_headers(profile)
    stream = Stream("rmt-hub/test-vectors/records")
    partner = PartnerSecurity(keys=keys["uwv"], directory=directory, clock=_clock, random=stream)
    sent, sent_headers = partner.seal_outbound(topic=OUTBOX, key=key, value=plain, headers=ce)
    outbox_random = stream.take()
    hub = HubSecurity(keys=keys["hub"], directory=directory, clock=_clock, random=stream)
    opened = hub.open_inbound(
        topic=OUTBOX, key=key, value=sent, headers=sent_headers, publisher="uwv"
    )
    delivery_ce = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"4f0b9a56-6a3c-5c1e-8f7d-2b9e0c1d2e3f"),
        ("ce_source", b"hub"),
        ("ce_type", profile.avro_name.encode()),
        ("ce_time", b"2026-01-01T00:00:01.000Z"),
        ("content-type", b"application/avro"),
    ]
    delivered, delivered_headers = hub.seal_delivery(
        recipient="gemeente-amsterdam",
        topic=INBOX,
        key=key,
        value=plain,
        headers=delivery_ce,
        origin=opened.verdict,
    )
    inbox_random = stream.take()
    assert sent is not None
    assert delivered is not None
    return {
        "description": "Whole records: what a partner publishes (Confluent-framed Avro, "
        "CloudEvents headers, encrypted to the hub, then signed) and what the hub delivers "
        "(encrypted to the recipient, origin headers, then hub-signed). The plaintext is "
        f"the example ClientProfile framed with schema id {SCHEMA_ID}: magic byte 0, the "
        "id as 4 bytes big-endian, the Avro binary encoding.",
        "record_json": json.loads(profile.model_dump_json()),
        "cases": [
            {
                "name": "published to the outbox by uwv",
                "signer": "uwv",
                "recipient": "hub",
                "topic": OUTBOX,
                "key_hex": key.hex(),
                "plaintext_hex": plain.hex(),
                "headers_in": _headers(ce),
                "signed_at_ms": SIGNED_AT_MS,
                "random_hex": outbox_random,
                "value_hex": sent.hex(),
                "headers": _headers(sent_headers),
            },
            {
                "name": "delivered to the inbox of gemeente-amsterdam",
                "signer": "hub",
                "recipient": "gemeente-amsterdam",
                "topic": INBOX,
                "key_hex": key.hex(),
                "plaintext_hex": plain.hex(),
                "headers_in": _headers(delivery_ce),
                "signed_at_ms": SIGNED_AT_MS,
                "random_hex": inbox_random,
                "value_hex": delivered.hex(),
                "headers": _headers(delivered_headers),
            },
        ],
    }


class _FixedKeys:
    def __init__(self, key: SubjectKey) -> None:
        self._key = key

    def current_key(self, subject: str) -> SubjectKey:
        return self._key

    def key(self, subject: str, key_id: str) -> SubjectKey:
        return self._key


def _subject_key() -> SubjectKey:
    secret = hashlib.sha256(b"rmt-hub/test-vector-subject-key").digest()
    return SubjectKey("psn-0123456789abcdef0123456789abcdef", secret[:16].hex(), secret)


def _sealed_field_vectors() -> dict[str, Any]:
    subject_key = _subject_key()
    stream = Stream("rmt-hub/test-vectors/sealed-fields")
    sealer = FieldSealer(_FixedKeys(subject_key), random=stream)
    cases = []
    for field, value in (
        ("work_limitation", True),
        ("health_needs", ["WORKPLACE_ADAPTATION", "ADJUSTED_HOURS"]),
        ("reduced_wage_value", None),
    ):
        if value is None:
            continue
        token = sealer.seal_value(subject_key.subject, field, value)
        (nonce,) = stream.take()
        key_id = bytes.fromhex(subject_key.key_id)
        cases.append(
            {
                "subject": subject_key.subject,
                "field": field,
                "value_json": json.dumps(value, separators=(",", ":"), sort_keys=True),
                "subject_key_id": subject_key.key_id,
                "nonce_hex": nonce,
                "aad_hex": sealed_field_aad(subject_key.subject, field, key_id).hex(),
                "token": token,
            }
        )
    return {
        "description": "Sealed special-category fields: token = "
        f'"{TOKEN_PREFIX}" + base64url(key id 16 | nonce 12 | AES-256-GCM(subject key, '
        "nonce, JSON(value), aad)), JSON compact with sorted keys.",
        "subject_key_hex": subject_key.secret.hex(),
        "cases": cases,
    }


def _grant_vectors(keys: dict[str, PartnerKeys]) -> dict[str, Any]:
    subject_key = _subject_key()
    stream = Stream("rmt-hub/test-vectors/grants")
    recipient = keys["gemeente-amsterdam"]
    blob, headers = wrap_subject_key(subject_key, _record(recipient), random=stream)
    return {
        "description": "A subject key wrapped for a partner: the envelope of "
        "envelopes.json with topic 'rmt-hub/subject-key-grant/v1', key = the subject, "
        "event id = the subject key id, plaintext = key id (16) | key (32).",
        "subject": subject_key.subject,
        "subject_key_id": subject_key.key_id,
        "subject_key_hex": subject_key.secret.hex(),
        "recipient": recipient.partner_id,
        "random_hex": stream.take(),
        "blob_hex": blob.hex(),
        "headers": _headers(headers),
    }


def _disclosure_vectors(keys: dict[str, PartnerKeys], directory: PublicDirectory) -> dict[str, Any]:
    profile = _profile()
    key = profile.client_pseudonym.encode("utf-8")
    plain = frame(SCHEMA_ID, codec.encode(profile))
    event = example("DisclosureEvent")
    assert isinstance(event, DisclosureEvent)
    disclosure = codec.encode(event)
    delivery_ce = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event.event_id.encode()),
        ("ce_source", b"hub"),
        ("ce_type", profile.avro_name.encode()),
        ("ce_time", b"2026-01-01T00:00:01.000Z"),
        ("content-type", b"application/avro"),
    ]
    stream = Stream("rmt-hub/test-vectors/disclosures")
    hub = HubSecurity(keys=keys["hub"], directory=directory, clock=_clock, random=stream)
    delivered, delivered_headers = hub.seal_delivery(
        recipient="gemeente-amsterdam",
        topic=INBOX,
        key=key,
        value=plain,
        headers=delivery_ce,
        sealed_headers=[(ENC_DISCLOSURE, disclosure)],
    )
    randoms = stream.take()  # DEK, DEK id, ephemeral key, wrap nonce, value nonce, header nonce
    assert delivered is not None
    recipient = keys["gemeente-amsterdam"]
    dek_id = base64.b64decode(dict(delivered_headers)["rmt-enc-dek"])[1:17]
    aad = header_aad(
        ENC_DISCLOSURE,
        topic=INBOX,
        key=key,
        event_id=event.event_id,
        dek_id=dek_id,
        key_id=recipient.key_id,
    )
    return {
        "description": "An inbox delivery with its DisclosureEvent inside the envelope: the "
        f"header {ENC_DISCLOSURE} = base64(nonce | AES-256-GCM(DEK, nonce, disclosure, "
        "header_aad)) under the data key of the value (the random bytes drawn: DEK 32, "
        "DEK id 16, ephemeral X25519 private key 32, wrap nonce 12, value nonce 12, header "
        "nonce 12). header_aad = item('rmt-hub/header-encryption/v1') item(header name) "
        "item(topic) optional(key) item(event id) item(DEK id) item(recipient key id). "
        "disclosure = the bare Avro (no framing) of nl.rmt.hub.DisclosureEvent. The "
        "signature covers the encrypted header like every rmt- header.",
        "recipient": recipient.partner_id,
        "recipient_key_id": recipient.key_id,
        "topic": INBOX,
        "key_hex": key.hex(),
        "event_id": event.event_id,
        "plaintext_hex": plain.hex(),
        "disclosure_json": json.loads(event.model_dump_json()),
        "disclosure_hex": disclosure.hex(),
        "headers_in": _headers(delivery_ce),
        "signed_at_ms": SIGNED_AT_MS,
        "random_hex": randoms,
        "dek_hex": randoms[0],
        "dek_id_hex": dek_id.hex(),
        "header_name": ENC_DISCLOSURE,
        "header_nonce_hex": randoms[-1],
        "header_aad_hex": aad.hex(),
        "value_hex": delivered.hex(),
        "headers": _headers(delivered_headers),
    }


def _pseudonym_vectors() -> dict[str, Any]:
    keys = {
        "development": DEVELOPMENT_PSEUDONYM_KEY,
        "test": b"a test pseudonym key, not a secret",
    }
    return {
        "description": "Client pseudonyms: 'psn-' + the first 32 hex digits of "
        "HMAC-SHA-256(pseudonym key, BSN as 9 ASCII digits). The development key is public.",
        "cases": [
            {"key_utf8": key.decode(), "bsn": bsn, "pseudonym": Pseudonymiser(key)(bsn)}
            for key in keys.values()
            for bsn in ("111222333", "123456782")
        ],
    }


def _event_id_vectors() -> dict[str, Any]:
    profile = _profile()
    content = profile.model_dump_json(exclude={"event_id"}, exclude_defaults=True)
    parts = [profile.avro_name, business_key(profile), content]
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big") + data)
    return {
        "description": "Event ids of the Python SDK: UUIDv5(namespace, partner + '\\x1f' + "
        "hex SHA-256 over the parts, each as its length (8 bytes big-endian) and UTF-8 "
        "bytes); parts = record type, business key, the record's JSON without event_id and "
        "fields at their default. Any id that is stable per record serves the hub.",
        "namespace": str(EVENT_NAMESPACE),
        "cases": [
            {
                "partner": "uwv",
                "parts": parts,
                "digest_hex": digest.hexdigest(),
                "event_id": event_id_for(profile, "uwv"),
            },
            {
                "partner": "gemeente-amsterdam",
                "parts": ["nl.rmt.hub.Referral", "ref-2026-0001"],
                "event_id": derive_event_id(
                    "gemeente-amsterdam", "nl.rmt.hub.Referral", "ref-2026-0001"
                ),
            },
        ],
    }


def build_test_vectors() -> dict[str, dict[str, Any]]:
    """File name -> its content (see :data:`FILES`)."""
    keys = {name: _keys(name) for name in _IDENTITIES}
    directory = PublicDirectory(_record(k) for k in keys.values())
    return {
        "keys.json": _key_vectors(keys),
        "signatures.json": _signature_vectors(keys),
        "envelopes.json": _envelope_vectors(keys),
        "records.json": _record_vectors(keys, directory),
        "sealed-fields.json": _sealed_field_vectors(),
        "subject-key-grants.json": _grant_vectors(keys),
        "disclosures.json": _disclosure_vectors(keys, directory),
        "pseudonyms.json": _pseudonym_vectors(),
        "event-ids.json": _event_id_vectors(),
    }


def render(content: dict[str, Any]) -> str:
    """One vector file's text (stable: sorted keys, two-space indent, final newline)."""
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def directory_of(vectors: dict[str, dict[str, Any]]) -> PublicDirectory:
    """The public directory of ``keys.json``."""
    return PublicDirectory(
        PublicKeyRecord.model_validate(i["directory_entry"])
        for i in vectors["keys.json"]["identities"]
    )
