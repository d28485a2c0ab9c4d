"""Private keys, data keys and subject keys never reach logs, reprs or error messages."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from consent.store import open_store
from hub.security.errors import SecurityError
from hub.security.keys import KeyStore, PartnerKeys
from hub.security.pipeline import HubSecurity, InboundRejected, PartnerSecurity
from hub.security.replay import ReplayGuard
from hub.security.shredding import FieldSealer, SubjectKeyStore
from tests.helpers.security import AMSTERDAM, HUB, UWV, make_headers


def secret_forms(keys: PartnerKeys) -> list[str]:
    """Every printable form of a partner's private keys."""
    forms = []
    for private in (keys.signing_key, keys.encryption_key):
        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        forms += [
            raw.hex(),
            base64.b64encode(raw).decode(),
            "".join(pem.splitlines()[1:-1]),
            repr(raw),
        ]
    return forms


def test_a_whole_exchange_leaks_no_secret(
    store: KeyStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    database = open_store(f"sqlite:///{tmp_path / 'consent.db'}")
    database.migrate()
    subject_keys = SubjectKeyStore(database, bytes(range(32)))
    hub = HubSecurity.from_store(store, replay_guard=ReplayGuard())
    uwv = PartnerSecurity.from_store(store, UWV)
    amsterdam = PartnerSecurity.from_store(store, AMSTERDAM)
    sealer = FieldSealer(subject_keys)
    texts: list[str] = []

    outbox, inbox = "rmt.partner.uwv.outbox", "rmt.partner.gemeente-amsterdam.inbox"
    headers = uwv.sign_outbound(topic=outbox, key=b"p", value=b"\x00v", headers=make_headers(UWV))
    verdict = hub.verify_inbound(
        topic=outbox,
        key=b"p",
        value=b"\x00v",
        headers=headers,
        publisher=UWV,
        partition=0,
        offset=0,
    )
    sealed = sealer.seal({"banenafspraak": True}, ["banenafspraak"], subject="p")
    value, delivered = hub.seal_delivery(
        recipient=AMSTERDAM,
        topic=inbox,
        key=b"p",
        value=b"\x00v",
        headers=make_headers(HUB),
        origin=verdict,
    )
    opened = amsterdam.open_inbound(topic=inbox, key=b"p", value=value, headers=delivered)
    texts += [repr(x) for x in (hub, uwv, amsterdam, sealer, subject_keys, verdict, opened, sealed)]
    texts += [str(x) for x in (hub, uwv, amsterdam, verdict, opened)]
    assert value is not None
    attempts: list[Callable[[], object]] = [
        lambda: uwv.open_inbound(topic=inbox, key=b"p", value=value, headers=delivered),
        lambda: amsterdam.open_inbound(topic=inbox, key=b"q", value=value, headers=delivered),
        lambda: amsterdam.open_inbound(topic=inbox, key=b"p", value=value[:-1], headers=delivered),
    ]
    for bad in attempts:
        with pytest.raises((SecurityError, InboundRejected)) as info:
            bad()
        texts.append(str(info.value))
    subject_key = subject_keys.current_key("p")
    texts += [record.getMessage() for record in caplog.records]
    blob = "\n".join(texts)
    assert "**********" in blob
    for partner in (HUB, UWV, AMSTERDAM):
        for form in secret_forms(store.private(partner)):
            assert form not in blob, partner
    assert subject_key.secret.hex() not in blob
    assert base64.b64encode(subject_key.secret).decode() not in blob
    subject_keys.close()
    database.close()
