"""The partner protocol's test vectors (docs/test-vectors/) are current and true.

Regenerated from the code they must equal the committed files, byte for byte (so
docs/partner-protocol.md cannot drift from the implementation); and every output in them
opens or verifies with the receiving side's code and the keys of keys.json alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.docs.test_vectors import FILES, SIGNED_AT_MS, build_test_vectors, directory_of, render
from hub.sdk.event_ids import derive_event_id
from hub.sdk.pseudonym import Pseudonymiser
from hub.security.envelope import EnvelopeDecryptor
from hub.security.headers import ORIGIN_SOURCE
from hub.security.keys import PartnerKeys, key_id_of
from hub.security.pipeline import HubSecurity, PartnerSecurity
from hub.security.shredding import FieldSealer, SubjectKey, unwrap_subject_key
from hub.security.signing import RecordVerifier, signed_bytes
from hub.serde.wire import unframe
from schemas import codec

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "test-vectors"
Vectors = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def vectors() -> Vectors:
    return {name: json.loads((COMMITTED / name).read_text("utf-8")) for name in FILES}


def keys_of(vectors: Vectors) -> dict[str, PartnerKeys]:
    return {
        i["partner_id"]: PartnerKeys(
            i["partner_id"],
            Ed25519PrivateKey.from_private_bytes(bytes.fromhex(i["signing_private_key_hex"])),
            X25519PrivateKey.from_private_bytes(bytes.fromhex(i["encryption_private_key_hex"])),
        )
        for i in vectors["keys.json"]["identities"]
    }


def headers(pairs: list[list[str]]) -> list[tuple[str, bytes]]:
    return [(name, value.encode("utf-8")) for name, value in pairs]


def raw(hex_text: str | None) -> bytes | None:
    return None if hex_text is None else bytes.fromhex(hex_text)


def clock() -> float:
    return SIGNED_AT_MS / 1000


def test_committed_vectors_are_current() -> None:
    built = build_test_vectors()
    assert sorted(built) == sorted(FILES)
    assert sorted(p.name for p in COMMITTED.glob("*.json")) == sorted(FILES)
    for name, content in built.items():
        assert (COMMITTED / name).read_text("utf-8") == render(content), (
            f"docs/test-vectors/{name} is stale: run `rmt-hub docs test-vectors`"
        )


def test_key_ids_are_fingerprints_of_the_public_keys(vectors: Vectors) -> None:
    keys = keys_of(vectors)
    for identity in vectors["keys.json"]["identities"]:
        made = keys[identity["partner_id"]]
        signing = base64.b64decode(identity["signing_public_key_b64"])
        encryption = base64.b64decode(identity["encryption_public_key_b64"])
        assert made.signing_public_bytes() == signing
        assert made.encryption_public_bytes() == encryption
        digest = hashlib.sha256(bytes.fromhex(identity["key_id_input_hex"])).digest()
        assert identity["key_id"] == digest[:16].hex() == key_id_of(signing, encryption)


def test_signatures_verify_over_the_documented_bytes(vectors: Vectors) -> None:
    verifier = RecordVerifier(directory_of(vectors), clock=clock)
    for case in vectors["signatures.json"]["cases"]:
        key, value = raw(case["key_hex"]), raw(case["value_hex"])
        signer = keys_of(vectors)[case["signer"]]
        data = signed_bytes(
            topic=case["topic"],
            key=key,
            value=value,
            key_id=signer.key_id,
            signed_at_ms=case["signed_at_ms"],
            headers=headers(case["headers"]),
        )
        assert data.hex() == case["signed_bytes_hex"]
        signer.signing_key.public_key().verify(base64.b64decode(case["signature_b64"]), data)
        verdict = verifier.verify(
            topic=case["topic"],
            key=key,
            value=value,
            headers=headers(case["headers_out"]),
            expected_signer=case["signer"],
        )
        assert verdict.ok, verdict
        moved = verifier.verify(
            topic=case["topic"] + "x", key=key, value=value, headers=headers(case["headers_out"])
        )
        assert not moved.ok


def test_envelopes_open_with_the_recipients_key(vectors: Vectors) -> None:
    keys = keys_of(vectors)
    for case in vectors["envelopes.json"]["cases"]:
        recipient = keys[case["recipient"]]
        plain = EnvelopeDecryptor([recipient]).decrypt(
            topic=case["topic"],
            key=raw(case["key_hex"]),
            value=bytes.fromhex(case["ciphertext_hex"]),
            headers=headers(case["headers_out"]),
            event_id=case["event_id"],
        )
        assert plain.hex() == case["plaintext_hex"]
        if "kek_hex" in case:
            blob = base64.b64decode(dict(case["headers_out"])["rmt-enc-dek"])
            dek = AESGCM(bytes.fromhex(case["kek_hex"])).decrypt(
                bytes.fromhex(case["wrap_nonce_hex"]),
                blob[61:],  # 1 | DEK id 16 | ephemeral 32 | nonce 12 | wrapped
                bytes.fromhex(case["wrap_aad_hex"]),
            )
            assert dek.hex() == case["dek_hex"]


def test_records_verify_and_open_on_the_receiving_side(vectors: Vectors) -> None:
    keys = keys_of(vectors)
    directory = directory_of(vectors)
    published, delivered = vectors["records.json"]["cases"]
    hub = HubSecurity(keys=keys["hub"], directory=directory, clock=clock)
    opened = hub.open_inbound(
        topic=published["topic"],
        key=raw(published["key_hex"]),
        value=raw(published["value_hex"]),
        headers=headers(published["headers"]),
        publisher="uwv",
    )
    assert opened.verdict.ok, opened.verdict
    assert opened.value is not None
    assert opened.value.hex() == published["plaintext_hex"]
    schema_id, payload = unframe(opened.value)
    profile = codec.decode("nl.rmt.hub.ClientProfile", bytes(payload))
    assert json.loads(profile.model_dump_json()) == vectors["records.json"]["record_json"]
    assert schema_id == 7

    gemeente = PartnerSecurity(keys=keys["gemeente-amsterdam"], directory=directory, clock=clock)
    got = gemeente.open_inbound(
        topic=delivered["topic"],
        key=raw(delivered["key_hex"]),
        value=raw(delivered["value_hex"]),
        headers=headers(delivered["headers"]),
    )
    assert got.value is not None
    assert got.value.hex() == delivered["plaintext_hex"]
    assert got.verdict.signer == "hub"
    assert dict(delivered["headers"])[ORIGIN_SOURCE] == "uwv"


class _Keys:
    def __init__(self, key: SubjectKey) -> None:
        self._key = key

    def current_key(self, subject: str) -> SubjectKey:
        return self._key

    def key(self, subject: str, key_id: str) -> SubjectKey:
        assert key_id == self._key.key_id
        return self._key


def test_sealed_fields_open_with_the_subject_key(vectors: Vectors) -> None:
    data = vectors["sealed-fields.json"]
    for case in data["cases"]:
        key = SubjectKey(
            case["subject"], case["subject_key_id"], bytes.fromhex(data["subject_key_hex"])
        )
        opened = FieldSealer(_Keys(key)).open_value(case["subject"], case["field"], case["token"])
        assert opened == json.loads(case["value_json"])


def test_a_subject_key_grant_opens_with_the_partners_key(vectors: Vectors) -> None:
    grant = vectors["subject-key-grants.json"]
    got = unwrap_subject_key(
        grant["subject"],
        grant["subject_key_id"],
        bytes.fromhex(grant["blob_hex"]),
        headers(grant["headers"]),
        [keys_of(vectors)[grant["recipient"]]],
    )
    assert got.secret.hex() == grant["subject_key_hex"]


def test_a_delivery_s_disclosure_opens_inside_its_envelope(vectors: Vectors) -> None:
    case = vectors["disclosures.json"]
    keys = keys_of(vectors)
    gemeente = PartnerSecurity(
        keys=keys["gemeente-amsterdam"], directory=directory_of(vectors), clock=clock
    )
    got = gemeente.open_inbound(
        topic=case["topic"],
        key=raw(case["key_hex"]),
        value=raw(case["value_hex"]),
        headers=headers(case["headers"]),
    )
    assert got.verdict.signer == "hub"
    assert got.value is not None
    assert got.value.hex() == case["plaintext_hex"]
    assert got.disclosure is not None
    assert got.disclosure.hex() == case["disclosure_hex"]
    event = codec.decode("nl.rmt.hub.DisclosureEvent", got.disclosure)
    assert json.loads(event.model_dump_json()) == case["disclosure_json"]
    # from the documented parts alone: AES-256-GCM(DEK, nonce, disclosure, header aad)
    sealed = base64.b64decode(dict(case["headers"])[case["header_name"]])
    assert sealed[:12].hex() == case["header_nonce_hex"]
    plain = AESGCM(bytes.fromhex(case["dek_hex"])).decrypt(
        sealed[:12], sealed[12:], bytes.fromhex(case["header_aad_hex"])
    )
    assert plain.hex() == case["disclosure_hex"]
    names = [name for name, _ in case["headers"]]
    assert "rmt-disclosure" not in names
    for category in case["disclosure_json"]["data_categories"]:
        assert category not in json.dumps(case["headers"])


def test_pseudonyms_and_event_ids(vectors: Vectors) -> None:
    for case in vectors["pseudonyms.json"]["cases"]:
        assert Pseudonymiser(case["key_utf8"].encode())(case["bsn"]) == case["pseudonym"]
    namespace = uuid.UUID(vectors["event-ids.json"]["namespace"])
    for case in vectors["event-ids.json"]["cases"]:
        assert derive_event_id(case["partner"], *case["parts"]) == case["event_id"]
        digest = hashlib.sha256()
        for part in case["parts"]:
            encoded = part.encode("utf-8")
            digest.update(len(encoded).to_bytes(8, "big") + encoded)
        assert (
            str(uuid.uuid5(namespace, f"{case['partner']}\x1f{digest.hexdigest()}"))
            == (case["event_id"])
        )
