"""Record signatures: every kind of tampering, foreign keys, validity, replays."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.security.consent_feed import (
    CONSENT_SERVICE_ID,
    ConsentFeedSigner,
    ConsentFeedVerifier,
    previous_hash,
)
from hub.security.headers import CE_ID, CE_SOURCE, CE_TYPE, CONSENT_PREV, SIG, SIG_KEY, SIG_TIME
from hub.security.keys import KeyStore, PartnerKeys
from hub.security.replay import ReplayGuard
from hub.security.signing import (
    RecordSigner,
    RecordVerifier,
    Verdict,
    VerdictReason,
    covered_headers,
    signed_bytes,
)
from tests.helpers.security import AMSTERDAM, HUB, UWV, Headers, make_headers

TOPIC = "rmt.partner.uwv.outbox"
KEY = b"pseudonym-1"
VALUE = b"\x00\x00\x00\x00\x01avro-payload"
PROPOSED_SYMBOLS = {"UNSIGNED", "KEY_UNKNOWN", "KEY_REVOKED", "KEY_EXPIRED", "SIGNER_MISMATCH"}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def signed(
    keys: PartnerKeys, *, source: str = UWV, clock: Clock | None = None, **kw: Any
) -> Headers:
    signer = RecordSigner(keys, clock=clock or Clock())
    return signer.sign(
        topic=str(kw.get("topic", TOPIC)),
        key=kw.get("key", KEY),
        value=kw.get("value", VALUE),
        headers=make_headers(source),
    )


def verify(store: KeyStore, headers: Headers, *, clock: Clock | None = None, **kw: Any) -> Verdict:
    verifier = RecordVerifier(store.directory(), clock=clock or Clock())
    return verifier.verify(
        topic=str(kw.get("topic", TOPIC)),
        key=kw.get("key", KEY),
        value=kw.get("value", VALUE),
        headers=headers,
        expected_signer=kw.get("expected_signer", UWV),
    )


def replaced(headers: Headers, name: str, value: bytes) -> Headers:
    return [(k, value if k == name else v) for k, v in headers]


@pytest.fixture
def uwv(store: KeyStore) -> PartnerKeys:
    return store.private(UWV)


def test_a_signed_record_verifies(store: KeyStore, uwv: PartnerKeys) -> None:
    headers = signed(uwv)
    verdict = verify(store, headers)
    assert verdict.ok, verdict
    assert verdict.signer == UWV
    assert verdict.key_id == uwv.key_id
    assert verdict.event_id == dict(headers)[CE_ID].decode()
    assert {SIG, SIG_KEY, SIG_TIME, "rmt-sig-alg"} <= {k for k, _ in headers}


@pytest.mark.parametrize(
    ("field", "tampered"),
    [
        ("topic", "rmt.partner.gemeente-amsterdam.outbox"),
        ("key", b"pseudonym-2"),
        ("key", None),
        ("value", VALUE + b"!"),
        ("value", None),
        ("value", b""),
    ],
)
def test_tampered_topic_key_or_value_is_invalid(
    store: KeyStore, uwv: PartnerKeys, field: str, tampered: Any
) -> None:
    verdict = verify(store, signed(uwv), **{field: tampered})
    assert verdict.reason is VerdictReason.SIGNATURE_INVALID
    assert "does not verify" in verdict.detail


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (CE_ID, str(uuid.uuid4()).encode()),
        (CE_TYPE, b"nl.rmt.hub.Referral"),
        (SIG_TIME, b"1800000000001"),
    ],
    ids=["event-id", "type", "time"],  # stable ids: pytest-xdist workers must agree
)
def test_tampered_event_id_type_or_time_is_invalid(
    store: KeyStore, uwv: PartnerKeys, name: str, value: bytes
) -> None:
    verdict = verify(store, replaced(signed(uwv), name, value))
    assert verdict.reason is VerdictReason.SIGNATURE_INVALID


def test_added_covered_header_breaks_it_other_headers_do_not(
    store: KeyStore, uwv: PartnerKeys
) -> None:
    headers = signed(uwv)
    assert verify(store, [*headers, ("traceparent", b"00-abc-def-01")]).ok
    added = verify(store, [*headers, ("ce_subject", b"x")])
    assert added.reason is VerdictReason.SIGNATURE_INVALID
    twice = verify(store, [*headers, (CE_ID, b"other")])
    assert twice.reason is VerdictReason.SIGNATURE_INVALID
    assert "ambiguous" in twice.detail


def test_forged_signatures_are_invalid(store: KeyStore, uwv: PartnerKeys) -> None:
    random_sig = replaced(signed(uwv), SIG, base64.b64encode(bytes(64)))
    assert verify(store, random_sig).reason is VerdictReason.SIGNATURE_INVALID
    # an attacker's own key, claiming UWV's key id
    attacker = PartnerKeys.generate(UWV)
    claimed = replaced(signed(attacker), SIG_KEY, uwv.key_id.encode())
    assert verify(store, claimed).reason is VerdictReason.SIGNATURE_INVALID
    garbage = replaced(signed(uwv), SIG, b"not base64!")
    assert verify(store, garbage).reason is VerdictReason.SIGNATURE_INVALID


def test_signed_with_another_partners_key(store: KeyStore) -> None:
    amsterdam = store.private(AMSTERDAM)
    # claims to be UWV, signed with Amsterdam's key
    impersonation = verify(store, signed(amsterdam, source=UWV))
    assert impersonation.reason is VerdictReason.SIGNER_MISMATCH
    assert impersonation.signer == AMSTERDAM
    # honest about itself, but written into UWV's outbox
    intrusion = verify(store, signed(amsterdam, source=AMSTERDAM))
    assert intrusion.reason is VerdictReason.SIGNER_MISMATCH
    assert "only uwv may write" in intrusion.detail


def test_unsigned_and_unknown_key(store: KeyStore, tmp_path: Path) -> None:
    assert verify(store, make_headers(UWV)).reason is VerdictReason.UNSIGNED
    stranger = KeyStore(tmp_path / "elsewhere")
    stranger.new(UWV)
    unknown = verify(store, signed(stranger.private(UWV)))
    assert unknown.reason is VerdictReason.KEY_UNKNOWN


def test_revoked_key(store: KeyStore, uwv: PartnerKeys) -> None:
    headers = signed(uwv)
    store.revoke(uwv.key_id)
    assert verify(store, headers).reason is VerdictReason.KEY_REVOKED


def test_expired_key(store: KeyStore, uwv: PartnerKeys) -> None:
    record = store.directory().get(uwv.key_id)
    after = Clock(record.not_after.timestamp() + 60)
    assert verify(store, signed(uwv, clock=after), clock=after).reason is VerdictReason.KEY_EXPIRED
    before = Clock(record.not_before.timestamp() - 60)
    assert (
        verify(store, signed(uwv, clock=before), clock=before).reason is VerdictReason.KEY_EXPIRED
    )
    # signed while valid, verified within the grace period: accepted; long after: expired
    inside = Clock(record.not_after.timestamp() - 1)
    headers = signed(uwv, clock=inside)
    assert verify(store, headers, clock=Clock(inside.now + 120)).ok
    late = verify(store, headers, clock=Clock(inside.now + 3600))
    assert late.reason is VerdictReason.KEY_EXPIRED


def test_retired_key_verifies_during_the_overlap(store: KeyStore, uwv: PartnerKeys) -> None:
    headers = signed(uwv, clock=Clock(time.time()))
    store.rotate(UWV, overlap=timedelta(hours=1))
    assert verify(store, headers, clock=Clock(time.time())).ok


def test_signed_in_the_future(store: KeyStore, uwv: PartnerKeys) -> None:
    future = signed(uwv, clock=Clock(1_800_000_000.0 + 3600))
    verdict = verify(store, future, clock=Clock())
    assert verdict.reason is VerdictReason.SIGNATURE_INVALID
    assert "future" in verdict.detail


def test_replays_and_redeliveries(store: KeyStore, uwv: PartnerKeys) -> None:
    clock = Clock()
    verifier = RecordVerifier(store.directory(), replay_guard=ReplayGuard(clock=clock), clock=clock)
    headers = signed(uwv, clock=clock)

    def at(offset: int) -> Verdict:
        return verifier.verify(
            topic=TOPIC,
            key=KEY,
            value=VALUE,
            headers=headers,
            expected_signer=UWV,
            partition=1,
            offset=offset,
        )

    assert at(10).ok
    again = at(10)
    assert again.ok
    assert again.redelivery
    replay = at(11)
    assert replay.reason is VerdictReason.REPLAYED
    assert "another offset" in replay.detail
    # a record signed before the window cannot be proven new
    old = signed(uwv, clock=Clock(clock.now - 8 * 86400))
    stale = verifier.verify(
        topic=TOPIC, key=KEY, value=VALUE, headers=old, expected_signer=UWV, partition=1, offset=12
    )
    assert stale.reason is VerdictReason.REPLAYED
    assert "window" in stale.detail


def test_forged_records_never_poison_the_replay_guard(store: KeyStore, uwv: PartnerKeys) -> None:
    clock = Clock()
    guard = ReplayGuard(clock=clock)
    verifier = RecordVerifier(store.directory(), replay_guard=guard, clock=clock)
    headers = signed(uwv, clock=clock)
    forged = replaced(headers, SIG, base64.b64encode(bytes(64)))
    common = {"topic": TOPIC, "key": KEY, "value": VALUE, "expected_signer": UWV, "partition": 0}
    assert not verifier.verify(headers=forged, offset=1, **common).ok  # type: ignore[arg-type]
    assert len(guard) == 0
    assert verifier.verify(headers=headers, offset=2, **common).ok  # type: ignore[arg-type]


def test_tombstones_are_signed_too(store: KeyStore, uwv: PartnerKeys) -> None:
    headers = signed(uwv, value=None)
    assert verify(store, headers, value=None).ok
    assert verify(store, headers, value=b"").reason is VerdictReason.SIGNATURE_INVALID


def test_signed_bytes_are_canonical() -> None:
    headers = make_headers(UWV)
    args = {"topic": TOPIC, "key": KEY, "value": VALUE, "key_id": "0" * 32, "signed_at_ms": 5}
    first = signed_bytes(headers=headers, **args)  # type: ignore[arg-type]
    shuffled = [*reversed(headers), ("traceparent", b"x")]
    assert signed_bytes(headers=shuffled, **args) == first  # type: ignore[arg-type]
    assert first.startswith(b"\x00\x00\x00\x1brmt-hub/record-signature/v1")
    assert [n for n, _ in covered_headers(headers)] == sorted(n for n, _ in headers)
    assert signed_bytes(headers=headers, **(args | {"key": None})) != signed_bytes(  # type: ignore[arg-type]
        headers=headers,
        **(args | {"key": b""}),  # type: ignore[arg-type]
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_of_the_value_is_caught(
    store: KeyStore, uwv: PartnerKeys, position: int, bit: int
) -> None:
    headers = signed(uwv)
    flipped = bytearray(VALUE)
    flipped[position % len(flipped)] ^= 1 << bit
    assert verify(store, headers, value=bytes(flipped)).reason is VerdictReason.SIGNATURE_INVALID


def test_every_reason_is_a_dead_letter_symbol() -> None:
    schema = json.loads(
        (Path(__file__).parents[2] / "schemas" / "dead_letter_reason.avsc").read_text()
    )
    symbols = set(schema["symbols"])
    assert {r.value for r in VerdictReason} <= symbols | PROPOSED_SYMBOLS
    assert {"SIGNATURE_INVALID", "REPLAYED"} <= symbols


def test_ce_source_is_required(store: KeyStore, uwv: PartnerKeys) -> None:
    headers = [(k, v) for k, v in signed(uwv) if k != CE_SOURCE]
    assert verify(store, headers).reason is VerdictReason.SIGNATURE_INVALID


def test_the_consent_feed_takes_only_a_consent_service_key_for_ever(store: KeyStore) -> None:
    store.new(CONSENT_SERVICE_ID)
    feed = "rmt.consent.changes"

    def sign_as(keys: PartnerKeys, clock: Clock | None = None) -> Headers:
        return ConsentFeedSigner(keys, clock=clock or Clock()).sign(
            topic=feed,
            key=KEY,
            value=VALUE,
            headers=make_headers(keys.partner_id, record_type="nl.rmt.hub.ConsentChange"),
            previous="a" * 64,
        )

    def check(headers: Headers, clock: Clock | None = None) -> Verdict:
        verifier = ConsentFeedVerifier(store.directory(), clock=clock or Clock())
        return verifier.verify(topic=feed, key=KEY, value=VALUE, headers=headers)

    service = store.private(CONSENT_SERVICE_ID)
    headers = sign_as(service)
    assert check(headers).ok
    assert previous_hash(headers) == "a" * 64
    for other in (store.private(HUB), store.private(UWV)):
        refused = check(sign_as(other))
        assert refused.reason is VerdictReason.SIGNER_MISMATCH
        assert "only a consent-service key" in refused.detail
    assert check(make_headers(CONSENT_SERVICE_ID)).reason is VerdictReason.UNSIGNED
    relinked = replaced(headers, CONSENT_PREV, b"b" * 64)
    assert check(relinked).reason is VerdictReason.SIGNATURE_INVALID
    # the feed is read from its start for ever: signed while valid stays valid
    record = store.directory().get(service.key_id)
    inside = Clock(record.not_after.timestamp() - 1)
    assert check(sign_as(service, inside), Clock(inside.now + 400 * 86_400)).ok
