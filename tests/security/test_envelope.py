"""Envelope encryption: round trip, wrong recipient, tampering, DEK rotation."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest

from hub.security.envelope import (
    DekPolicy,
    EnvelopeDecryptor,
    EnvelopeEncryptor,
    SelfSealer,
    is_encrypted,
)
from hub.security.errors import DecryptionFailed, EnvelopeError, NotEncrypted, NotForRecipient
from hub.security.headers import CE_ID, ENC_DEK, ENC_DISCLOSURE, ENC_KEY, HUB_DISCLOSURE
from hub.security.keys import KeyStore
from tests.helpers.security import AMSTERDAM, UTRECHT, UWV

TOPIC = "rmt.partner.gemeente-amsterdam.inbox"
KEY = b"pseudonym-1"
PLAIN = b"\x00\x00\x00\x00\x07a consented client profile"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def seal(
    encryptor: EnvelopeEncryptor, store: KeyStore, recipient: str = AMSTERDAM, **kw: object
) -> tuple[bytes, list[tuple[str, bytes]]]:
    event_id = str(kw.get("event_id") or uuid.uuid4())
    value, headers = encryptor.encrypt(
        store.directory().current(recipient),
        topic=str(kw.get("topic", TOPIC)),
        key=kw.get("key", KEY),  # type: ignore[arg-type]
        value=kw.get("value", PLAIN),  # type: ignore[arg-type]
        event_id=event_id,
    )
    return value, [(CE_ID, event_id.encode()), *headers]


def open_(
    store: KeyStore, partner: str, value: bytes, headers: list[tuple[str, bytes]], **kw: object
) -> bytes:
    return EnvelopeDecryptor(store.private_keys(partner)).decrypt(
        topic=str(kw.get("topic", TOPIC)),
        key=kw.get("key", KEY),  # type: ignore[arg-type]
        value=value,
        headers=headers,
    )


def test_round_trip(store: KeyStore) -> None:
    value, headers = seal(EnvelopeEncryptor(), store)
    assert PLAIN not in value
    assert len(value) == len(PLAIN) + 28
    assert is_encrypted(headers)
    assert dict(headers)[ENC_KEY].decode() == store.directory().current(AMSTERDAM).key_id
    assert open_(store, AMSTERDAM, value, headers) == PLAIN


@pytest.mark.parametrize("reader", [UWV, UTRECHT, "hub"])
def test_other_partners_get_ciphertext_only(store: KeyStore, reader: str) -> None:
    value, headers = seal(EnvelopeEncryptor(), store)
    with pytest.raises(NotForRecipient):
        open_(store, reader, value, headers)
    # pretending the envelope is for their own key does not help either
    own = store.directory().current(reader).key_id.encode()
    spoofed = [(k, own if k == ENC_KEY else v) for k, v in headers]
    with pytest.raises(DecryptionFailed):
        open_(store, reader, value, spoofed)


@pytest.mark.parametrize(
    ("field", "tampered"),
    [("topic", "rmt.partner.gemeente-utrecht.inbox"), ("key", b"pseudonym-2"), ("key", None)],
)
def test_binding_to_topic_and_key(store: KeyStore, field: str, tampered: object) -> None:
    value, headers = seal(EnvelopeEncryptor(), store)
    with pytest.raises(DecryptionFailed, match="altered"):
        open_(store, AMSTERDAM, value, headers, **{field: tampered})


def test_binding_to_event_id_and_ciphertext(store: KeyStore) -> None:
    value, headers = seal(EnvelopeEncryptor(), store)
    other_id = [(k, b"another-event" if k == CE_ID else v) for k, v in headers]
    with pytest.raises(DecryptionFailed):
        open_(store, AMSTERDAM, value, other_id)
    flipped = bytearray(value)
    flipped[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        open_(store, AMSTERDAM, bytes(flipped), headers)
    with pytest.raises(DecryptionFailed):
        open_(store, AMSTERDAM, value[:10], headers)


def test_tampered_wrapped_dek(store: KeyStore) -> None:
    value, headers = seal(EnvelopeEncryptor(), store)
    for mangled in (b"!!", headers[-1][1][:-8] + b"AAAAAAA=", b"QUJD"):
        bad = [(k, mangled if k == ENC_DEK else v) for k, v in headers]
        with pytest.raises(DecryptionFailed):
            open_(store, AMSTERDAM, value, bad)
    # a DEK from another envelope does not open this ciphertext
    _, other = seal(EnvelopeEncryptor(), store)
    swapped = [(k, dict(other)[ENC_DEK] if k == ENC_DEK else v) for k, v in headers]
    with pytest.raises(DecryptionFailed):
        open_(store, AMSTERDAM, value, swapped)


def test_dek_is_reused_then_rotated_after_n_records(store: KeyStore) -> None:
    encryptor = EnvelopeEncryptor(DekPolicy(max_records=3))
    sealed = [seal(encryptor, store) for _ in range(7)]
    deks = [dict(h)[ENC_DEK] for _, h in sealed]
    assert deks[0] == deks[1] == deks[2] != deks[3]
    assert deks[3] == deks[4] == deks[5] != deks[6]
    assert encryptor.deks_created == 3
    decryptor = EnvelopeDecryptor(store.private_keys(AMSTERDAM))
    for value, headers in sealed:
        assert decryptor.decrypt(topic=TOPIC, key=KEY, value=value, headers=headers) == PLAIN
    assert decryptor.unwraps == 3  # one unwrap per DEK, not per record


def test_dek_is_rotated_after_t_seconds(store: KeyStore) -> None:
    clock = Clock()
    encryptor = EnvelopeEncryptor(DekPolicy(max_age=timedelta(seconds=60)), clock=clock)
    first = dict(seal(encryptor, store)[1])[ENC_DEK]
    clock.now += 59
    assert dict(seal(encryptor, store)[1])[ENC_DEK] == first
    clock.now += 2
    assert dict(seal(encryptor, store)[1])[ENC_DEK] != first


def test_one_dek_per_recipient(store: KeyStore) -> None:
    encryptor = EnvelopeEncryptor()
    a = dict(seal(encryptor, store, AMSTERDAM)[1])[ENC_DEK]
    b = dict(seal(encryptor, store, UTRECHT, topic="rmt.partner.gemeente-utrecht.inbox")[1])[
        ENC_DEK
    ]
    assert a != b
    assert encryptor.deks_created == 2


def test_records_encrypted_before_a_rotation_still_open(store: KeyStore) -> None:
    value, headers = seal(EnvelopeEncryptor(), store)
    store.rotate(AMSTERDAM)
    assert open_(store, AMSTERDAM, value, headers) == PLAIN
    new_value, new_headers = seal(EnvelopeEncryptor(), store)
    assert dict(new_headers)[ENC_KEY] != dict(headers)[ENC_KEY]
    assert open_(store, AMSTERDAM, new_value, new_headers) == PLAIN


def test_refusals(store: KeyStore) -> None:
    with pytest.raises(NotEncrypted):
        open_(store, AMSTERDAM, PLAIN, [(CE_ID, b"e")])
    record = store.directory().current(AMSTERDAM)
    store.revoke(record.key_id)
    with pytest.raises(EnvelopeError, match="revoked"):
        EnvelopeEncryptor().encrypt(
            store.directory().get(record.key_id), topic=TOPIC, key=KEY, value=PLAIN, event_id="e"
        )
    with pytest.raises(EnvelopeError):
        EnvelopeDecryptor([])


def test_reprs_hide_keys(store: KeyStore) -> None:
    decryptor = EnvelopeDecryptor(store.private_keys(AMSTERDAM))
    assert "**********" in repr(decryptor)
    encryptor = EnvelopeEncryptor()
    seal(encryptor, store)
    assert "AESGCM" not in repr(encryptor)
    assert "live_deks=1" in repr(encryptor)


def test_an_encrypted_header_opens_for_the_recipient_only_and_only_in_its_record(
    store: KeyStore,
) -> None:
    """A header sealed under the record's data key (the delivery's disclosure) is
    ciphertext on the topic, opens for the recipient, and not in another header, record
    or topic."""
    encryptor = EnvelopeEncryptor()
    secret = b"categories: health; fields: work_limitation"
    event_id = str(uuid.uuid4())
    value, headers = encryptor.encrypt(
        store.directory().current(AMSTERDAM),
        topic=TOPIC,
        key=KEY,
        value=PLAIN,
        event_id=event_id,
        sealed_headers=[(ENC_DISCLOSURE, secret)],
    )
    headers = [(CE_ID, event_id.encode()), *headers]
    assert secret not in b"".join(v for _, v in headers)
    amsterdam = EnvelopeDecryptor(store.private_keys(AMSTERDAM))
    assert amsterdam.decrypt_header(ENC_DISCLOSURE, topic=TOPIC, key=KEY, headers=headers) == secret
    assert amsterdam.decrypt(topic=TOPIC, key=KEY, value=value, headers=headers) == PLAIN
    assert amsterdam.decrypt_header("rmt-other", topic=TOPIC, key=KEY, headers=headers) is None
    with pytest.raises(NotForRecipient):
        EnvelopeDecryptor(store.private_keys(UWV)).decrypt_header(
            ENC_DISCLOSURE, topic=TOPIC, key=KEY, headers=headers
        )
    renamed = [("rmt-other" if n == ENC_DISCLOSURE else n, v) for n, v in headers]
    moved = [
        (n, dict(headers)[ENC_DISCLOSURE] if n == ENC_DISCLOSURE else v)
        for n, v in seal(encryptor, store)[1]
    ] + [(ENC_DISCLOSURE, dict(headers)[ENC_DISCLOSURE])]
    for bad in (
        lambda: amsterdam.decrypt_header("rmt-other", topic=TOPIC, key=KEY, headers=renamed),
        lambda: amsterdam.decrypt_header(ENC_DISCLOSURE, topic="t2", key=KEY, headers=headers),
        lambda: amsterdam.decrypt_header(ENC_DISCLOSURE, topic=TOPIC, key=b"p2", headers=headers),
        lambda: amsterdam.decrypt_header(ENC_DISCLOSURE, topic=TOPIC, key=KEY, headers=moved),
    ):
        with pytest.raises(DecryptionFailed):
            bad()


def test_self_sealed_values_open_only_for_the_key_holder_and_cannot_be_made_by_others(
    store: KeyStore,
) -> None:
    """The router's copy of a disclosure is sealed under a key derived from the operations
    private key: its holder opens it, a copy moved elsewhere does not open, and whoever
    lacks the private key can neither open nor make one (the public key is no help)."""
    store.new("operations")
    mine = SelfSealer(store.private_keys("operations"))
    sealed = mine.seal(HUB_DISCLOSURE, topic=TOPIC, key=KEY, event_id="e1", value=b"disclosed")
    assert b"disclosed" not in sealed
    assert mine.open(HUB_DISCLOSURE, sealed, topic=TOPIC, key=KEY, event_id="e1") == b"disclosed"
    with pytest.raises(DecryptionFailed):
        mine.open(HUB_DISCLOSURE, sealed, topic=TOPIC, key=KEY, event_id="e2")
    with pytest.raises(DecryptionFailed):
        mine.open(ENC_DISCLOSURE, sealed, topic=TOPIC, key=KEY, event_id="e1")
    other = SelfSealer(store.private_keys(UWV))
    with pytest.raises(NotForRecipient):
        other.open(HUB_DISCLOSURE, sealed, topic=TOPIC, key=KEY, event_id="e1")
    # a forger names the operations key id but derives its key from another private key
    forged = other.seal(HUB_DISCLOSURE, topic=TOPIC, key=KEY, event_id="e1", value=b"fake")
    raw = base64.b64decode(forged)
    forged = base64.b64encode(bytes.fromhex(store.private("operations").key_id) + raw[16:])
    with pytest.raises(DecryptionFailed):
        mine.open(HUB_DISCLOSURE, forged, topic=TOPIC, key=KEY, event_id="e1")
    assert "**********" in repr(mine)
