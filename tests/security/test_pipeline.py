"""The composed SDK and router steps: seal outbound, open inbound, seal deliveries."""

from __future__ import annotations

import pytest

from hub.security.errors import NotEncrypted, NotForRecipient
from hub.security.headers import ENC_KEY, ORIGIN_EVENT, ORIGIN_SOURCE, SIG
from hub.security.keys import KeyStore
from hub.security.pipeline import HubSecurity, InboundRejected, PartnerSecurity
from hub.security.replay import ReplayGuard
from hub.security.signing import VerdictReason
from tests.helpers.security import AMSTERDAM, HUB, UWV, make_headers

OUTBOX, INBOX = "rmt.partner.uwv.outbox", "rmt.partner.gemeente-amsterdam.inbox"
VALUE = b"\x00\x00\x00\x00\x02a profile with health data"


def test_outbox_values_are_readable_by_the_hub_only(store: KeyStore) -> None:
    uwv = PartnerSecurity.from_store(store, UWV)
    value, headers = uwv.seal_outbound(
        topic=OUTBOX, key=b"p", value=VALUE, headers=make_headers(UWV)
    )
    assert value is not None
    assert b"health" not in value
    assert dict(headers)[ENC_KEY].decode() == store.directory().current(HUB).key_id
    hub = HubSecurity.from_store(store, replay_guard=ReplayGuard())
    opened = hub.open_inbound(
        topic=OUTBOX, key=b"p", value=value, headers=headers, publisher=UWV, partition=0, offset=0
    )
    assert opened.verdict.ok
    assert opened.value == VALUE
    # another partner that reads the outbox: the signature is public, the value is not
    amsterdam = PartnerSecurity.from_store(store, AMSTERDAM, hub_id=UWV)
    with pytest.raises(NotForRecipient):
        amsterdam.open_inbound(topic=OUTBOX, key=b"p", value=value, headers=headers)


def test_router_refusals_come_as_verdicts(store: KeyStore) -> None:
    uwv = PartnerSecurity.from_store(store, UWV)
    hub = HubSecurity.from_store(store)
    plain_headers = uwv.sign_outbound(
        topic=OUTBOX, key=b"p", value=VALUE, headers=make_headers(UWV)
    )
    unencrypted = hub.open_inbound(
        topic=OUTBOX, key=b"p", value=VALUE, headers=plain_headers, publisher=UWV
    )
    assert unencrypted.verdict.reason is VerdictReason.DECODE_ERROR
    assert unencrypted.value is None
    lenient = HubSecurity.from_store(store, require_encrypted_inbound=False)
    assert (
        lenient.open_inbound(
            topic=OUTBOX, key=b"p", value=VALUE, headers=plain_headers, publisher=UWV
        ).value
        == VALUE
    )
    # encrypted to the wrong party, then correctly signed: signature fine, content unusable
    wrong = PartnerSecurity.from_store(store, UWV, hub_id=AMSTERDAM)
    value, headers = wrong.seal_outbound(
        topic=OUTBOX, key=b"p", value=VALUE, headers=make_headers(UWV)
    )
    opened = hub.open_inbound(topic=OUTBOX, key=b"p", value=value, headers=headers, publisher=UWV)
    assert opened.verdict.reason is VerdictReason.DECODE_ERROR
    assert "does not decrypt" in opened.verdict.detail
    # tampered after signing: a signature problem, the value is never decrypted
    value, headers = uwv.seal_outbound(
        topic=OUTBOX, key=b"p", value=VALUE, headers=make_headers(UWV)
    )
    assert value is not None
    tampered = hub.open_inbound(
        topic=OUTBOX, key=b"p", value=value[:-1] + b"\x00", headers=headers, publisher=UWV
    )
    assert tampered.verdict.reason is VerdictReason.SIGNATURE_INVALID


def test_deliveries_carry_their_origin_and_are_hub_signed(store: KeyStore) -> None:
    uwv = PartnerSecurity.from_store(store, UWV)
    hub = HubSecurity.from_store(store)
    value, headers = uwv.seal_outbound(
        topic=OUTBOX, key=b"p", value=VALUE, headers=make_headers(UWV)
    )
    inbound = hub.open_inbound(topic=OUTBOX, key=b"p", value=value, headers=headers, publisher=UWV)
    delivered, delivered_headers = hub.seal_delivery(
        recipient=AMSTERDAM,
        topic=INBOX,
        key=b"p",
        value=inbound.value,
        headers=make_headers(HUB),
        origin=inbound.verdict,
    )
    names = dict(delivered_headers)
    assert names[ORIGIN_SOURCE] == b"uwv"
    assert names[ORIGIN_EVENT].decode() == inbound.verdict.event_id
    amsterdam = PartnerSecurity.from_store(store, AMSTERDAM)
    opened = amsterdam.open_inbound(
        topic=INBOX, key=b"p", value=delivered, headers=delivered_headers
    )
    assert opened.value == VALUE
    assert opened.verdict.signer == HUB
    # a forged origin header breaks the hub's signature
    forged = [(k, b"sbb" if k == ORIGIN_SOURCE else v) for k, v in delivered_headers]
    with pytest.raises(InboundRejected) as info:
        amsterdam.open_inbound(topic=INBOX, key=b"p", value=delivered, headers=forged)
    assert info.value.verdict.reason is VerdictReason.SIGNATURE_INVALID
    # a record in the inbox that the hub did not sign is refused
    partner_signed = uwv.sign_outbound(
        topic=INBOX, key=b"p", value=VALUE, headers=make_headers(UWV)
    )
    with pytest.raises(InboundRejected) as info:
        amsterdam.open_inbound(topic=INBOX, key=b"p", value=VALUE, headers=partner_signed)
    assert info.value.verdict.reason is VerdictReason.SIGNER_MISMATCH
    unsigned = [(k, v) for k, v in delivered_headers if k != SIG]
    with pytest.raises(InboundRejected):
        amsterdam.open_inbound(topic=INBOX, key=b"p", value=delivered, headers=unsigned)


def test_tombstones_are_signed_not_encrypted(store: KeyStore) -> None:
    hub = HubSecurity.from_store(store)
    value, headers = hub.seal_delivery(
        recipient=AMSTERDAM, topic=INBOX, key=b"p", value=None, headers=make_headers(HUB)
    )
    assert value is None
    assert ENC_KEY not in dict(headers)
    amsterdam = PartnerSecurity.from_store(store, AMSTERDAM)
    assert amsterdam.open_inbound(topic=INBOX, key=b"p", value=None, headers=headers).value is None
    signed_plain = hub.sign(topic=INBOX, key=b"p", value=VALUE, headers=make_headers(HUB))
    with pytest.raises(NotEncrypted):
        amsterdam.open_inbound(topic=INBOX, key=b"p", value=VALUE, headers=signed_plain)
