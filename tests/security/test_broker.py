"""The security library over the session's real broker (no mocks of Kafka).

What the router will do is played here by the test itself: verify what a partner
published and dead-letter the rest with a reason; deliver encrypted and signed; shred;
write and verify an audit chain.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consent.store import open_store
from hub.cli import audit as audit_cli
from hub.config import HubSettings
from hub.kafka import producer
from hub.kafka.reading import read_topic
from hub.security.audit_chain import AuditChainer, BreakReason, verify_chain
from hub.security.audit_log import read_audit_entries, resume_chainer
from hub.security.errors import NotForRecipient, SubjectKeyShredded
from hub.security.headers import ENC_KEY, SIG
from hub.security.keys import KeyStore
from hub.security.pipeline import HubSecurity, PartnerSecurity
from hub.security.replay import ReplayGuard
from hub.security.shredding import FieldSealer, SubjectKeyStore
from hub.security.signing import RecordSigner
from tests.helpers.security import AMSTERDAM, HUB, UTRECHT, UWV, make_headers

pytestmark = pytest.mark.integration

Record = Any


def read_all(settings: HubSettings, topic: str, timeout_s: float = 30.0) -> list[Record]:
    """Every record of ``topic``, up to the fetch high watermark of each partition."""
    return read_topic(settings, topic, timeout_s=timeout_s, metadata_wait_s=timeout_s)


def send_all(settings: HubSettings, topic: str, records: list[tuple[Any, ...]]) -> None:
    """Produce (key, value, headers[, partition]) tuples in order and wait for the acks."""
    out = producer(settings, linger_ms=0)
    try:
        for key, value, headers, *partition in records:
            out.send(
                topic,
                key=key,
                value=value,
                headers=list(headers),
                partition=partition[0] if partition else 0,
            ).get(timeout=20)
    finally:
        out.close()


def test_bad_outbox_records_are_dead_lettered_with_the_right_reason(
    hub_settings: HubSettings, topic_factory: Callable[..., str], store: KeyStore, tmp_path: Path
) -> None:
    outbox, dead_letters = topic_factory(), topic_factory()
    uwv = PartnerSecurity.from_store(store, UWV)
    plain = b"\x00\x00\x00\x00\x01profile: work limitation"

    def sealed_by(security: PartnerSecurity) -> tuple[bytes, list[tuple[str, bytes]]]:
        value, headers = security.seal_outbound(
            topic=outbox, key=b"p1", value=plain, headers=make_headers(UWV)
        )
        assert value is not None
        return value, headers

    good = sealed_by(uwv)
    value, headers = sealed_by(uwv)
    forged = (value, [(k, base64.b64encode(bytes(64)) if k == SIG else v) for k, v in headers])
    other_partner = sealed_by(PartnerSecurity.from_store(store, AMSTERDAM))
    value, headers = sealed_by(uwv)
    tampered = (value[:-1] + bytes([value[-1] ^ 1]), headers)
    not_encrypted = (
        plain,
        uwv.sign_outbound(topic=outbox, key=b"p1", value=plain, headers=make_headers(UWV)),
    )
    # an expired key: valid for a day, thirty days ago
    past = datetime.now(UTC) - timedelta(days=30)
    old_store = KeyStore(tmp_path / "old", clock=lambda: past)
    old_store.new(UWV, valid_for=timedelta(days=1))
    expired_signer = RecordSigner(old_store.private(UWV), clock=lambda: past.timestamp() + 60)
    expired = (
        plain,
        expired_signer.sign(topic=outbox, key=b"p1", value=plain, headers=make_headers(UWV)),
    )
    directory = store.directory().with_record(old_store.directory().current(UWV, past))

    published = [
        ("accepted", good),
        ("SIGNATURE_INVALID", forged),
        ("SIGNER_MISMATCH", other_partner),
        ("REPLAYED", good),  # the same record produced again
        ("SIGNATURE_INVALID", tampered),
        ("UNSIGNED", (plain, make_headers(UWV))),
        ("KEY_EXPIRED", expired),
        ("DECODE_ERROR", not_encrypted),
    ]
    send_all(hub_settings, outbox, [(b"p1", v, h) for _, (v, h) in published])

    # another partner reading the outbox sees ciphertext only
    raw = read_all(hub_settings, outbox)
    assert all(b"work limitation" not in r.value for r in raw if dict(r.headers).get(ENC_KEY))

    hub = HubSecurity(
        keys=store.private(HUB),
        directory=directory,
        decrypt_with=store.private_keys(HUB),
        replay_guard=ReplayGuard(),
    )
    dead: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    accepted = []
    for record in raw:
        opened = hub.open_inbound(
            topic=record.topic,
            key=record.key,
            value=record.value,
            headers=record.headers,
            publisher=UWV,
            partition=record.partition,
            offset=record.offset,
        )
        if opened.verdict.ok:
            assert opened.value == plain
            accepted.append(record.offset)
            continue
        letter = json.dumps(
            {
                "reason": opened.verdict.dead_letter_reason,
                "detail": opened.verdict.detail,
                "offset": record.offset,
            }
        ).encode()
        headers = hub.sign(
            topic=dead_letters, key=record.key, value=letter, headers=make_headers(HUB)
        )
        dead.append((record.key, letter, headers))
    send_all(hub_settings, dead_letters, dead)

    assert accepted == [0]
    letters = [json.loads(r.value) for r in read_all(hub_settings, dead_letters)]
    assert {letter["offset"]: letter["reason"] for letter in letters} == {
        offset: reason for offset, (reason, _) in enumerate(published) if offset != 0
    }
    replay = next(letter for letter in letters if letter["reason"] == "REPLAYED")
    assert "already accepted at another offset" in replay["detail"]


def test_an_inbox_is_readable_by_its_partner_only(
    hub_settings: HubSettings, topic_factory: Callable[..., str], store: KeyStore
) -> None:
    inbox = topic_factory(partitions=2)
    hub = HubSecurity.from_store(store)
    plaintexts = [f"profile of subject {i}: banenafspraak".encode() for i in range(20)]
    deliveries = []
    for i, plain in enumerate(plaintexts):
        value, headers = hub.seal_delivery(
            recipient=AMSTERDAM,
            topic=inbox,
            key=f"p{i}".encode(),
            value=plain,
            headers=make_headers(HUB),
        )
        deliveries.append((f"p{i}".encode(), value, headers, i % 2))
    send_all(hub_settings, inbox, deliveries)

    records = read_all(hub_settings, inbox)
    assert len(records) == 20
    amsterdam = PartnerSecurity.from_store(store, AMSTERDAM)
    opened = {
        amsterdam.open_inbound(
            topic=r.topic,
            key=r.key,
            value=r.value,
            headers=r.headers,
            partition=r.partition,
            offset=r.offset,
        ).value
        for r in records
    }
    assert opened == set(plaintexts)
    for intruder in (UWV, UTRECHT):
        reader = PartnerSecurity.from_store(store, intruder)
        for r in records:
            assert b"banenafspraak" not in r.value
            assert b"subject" not in r.value
            with pytest.raises(NotForRecipient):
                reader.open_inbound(topic=r.topic, key=r.key, value=r.value, headers=r.headers)


def test_after_shredding_delivered_special_fields_are_unreadable_by_anyone(
    hub_settings: HubSettings, topic_factory: Callable[..., str], store: KeyStore, tmp_path: Path
) -> None:
    inboxes = {AMSTERDAM: topic_factory(), UTRECHT: topic_factory()}
    database = open_store(f"sqlite:///{tmp_path / 'consent.db'}")
    database.migrate()
    subject_keys = SubjectKeyStore(database, bytes(range(32)))
    hub = HubSecurity.from_store(store)
    sealer = FieldSealer(subject_keys)
    profile = {
        "client_pseudonym": "p1",
        "municipality": "0363",
        "banenafspraak": True,
        "health_needs": ["JOB_COACH"],
    }
    special = ["banenafspraak", "health_needs"]
    for recipient, inbox in inboxes.items():
        sealed = sealer.seal(profile, special, subject="p1")
        value, headers = hub.seal_delivery(
            recipient=recipient,
            topic=inbox,
            key=b"p1",
            value=json.dumps(sealed).encode(),
            headers=make_headers(HUB),
        )
        send_all(hub_settings, inbox, [(b"p1", value, headers)])

    def read_back(recipient: str) -> dict[str, Any]:
        [record] = read_all(hub_settings, inboxes[recipient])
        security = PartnerSecurity.from_store(store, recipient)
        opened = security.open_inbound(
            topic=record.topic, key=record.key, value=record.value, headers=record.headers
        )
        assert opened.value is not None
        return dict(json.loads(opened.value))

    for recipient in inboxes:
        assert sealer.open(read_back(recipient), subject="p1")["banenafspraak"] is True

    # consent withdrawn: the hub destroys the subject's key
    assert subject_keys.destroy("p1") == 1
    fresh = SubjectKeyStore(database, bytes(range(32)))  # any process, any time
    for recipient in inboxes:
        record = read_back(recipient)  # the envelope still opens for its recipient ...
        assert record["banenafspraak"] is None
        assert record["client_pseudonym"] == "p1"
        for provider in (subject_keys, fresh):  # ... but the special fields do not
            with pytest.raises(SubjectKeyShredded):
                FieldSealer(provider).open(record, subject="p1")
        assert (
            FieldSealer(fresh).open(record, subject="p1", on_shredded="null")["banenafspraak"]
            is None
        )
    fresh.close()
    subject_keys.close()
    database.close()


@pytest.fixture
def audit_topic(
    hub_settings: HubSettings, topic_factory: Callable[..., str], store: KeyStore
) -> tuple[str, list[Record]]:
    """An audit topic of 3 partitions with 24 chained, hub-signed entries."""
    topic = topic_factory(partitions=3)
    chainer = AuditChainer(store.private(HUB))
    for partition in range(3):
        chainer.resume(partition, None)
    entries = []
    for i in range(24):
        partition, key = i % 3, f"subject-{i % 5}".encode()
        value = json.dumps({"disclosure": i, "recipient": AMSTERDAM}).encode()
        headers = chainer.link(partition, key=key, value=value, headers=make_headers(HUB))
        entries.append((key, value, headers, partition))
    send_all(hub_settings, topic, entries)
    return topic, read_all(hub_settings, topic)


def copy_topic(settings: HubSettings, records: list[Record], target: str) -> None:
    send_all(settings, target, [(r.key, r.value, r.headers, r.partition) for r in records])


def test_audit_chain_on_a_real_topic_and_tampered_copies(
    hub_settings: HubSettings,
    topic_factory: Callable[..., str],
    store: KeyStore,
    audit_topic: tuple[str, list[Record]],
) -> None:
    topic, records = audit_topic
    entries = read_audit_entries(hub_settings, topic)
    report = verify_chain(entries, directory=store.directory(), require_signatures=True)
    assert report.ok, report.breaks
    assert report.entries == {0: 8, 1: 8, 2: 8}
    assert sum(report.signed.values()) == 24

    untouched = topic_factory(partitions=3)
    copy_topic(hub_settings, records, untouched)
    assert verify_chain(read_audit_entries(hub_settings, untouched), directory=store.directory()).ok

    changed = [
        r._replace(value=r.value.replace(b'"disclosure": 7', b'"disclosure": 70')) for r in records
    ]
    removed = [r for r in records if not (r.partition == 2 and r.offset == 4)]
    reordered = list(records)
    i, j = (n for n, r in enumerate(records) if r.partition == 1 and r.offset in {2, 3})
    reordered[i], reordered[j] = reordered[j], reordered[i]
    for tampered, reason, partition in (
        (changed, BreakReason.CHANGED, 1),
        (removed, BreakReason.REMOVED, 2),
        (reordered, BreakReason.REORDERED, 1),
    ):
        target = topic_factory(partitions=3)
        copy_topic(hub_settings, tampered, target)
        found = verify_chain(
            read_audit_entries(hub_settings, target), directory=store.directory()
        ).first_break
        assert found is not None, reason
        assert (found.reason, found.partition) == (reason, partition)


def test_audit_cli_and_resuming_a_chain(
    hub_settings: HubSettings,
    topic_factory: Callable[..., str],
    store: KeyStore,
    audit_topic: tuple[str, list[Record]],
    tmp_path: Path,
) -> None:
    topic, records = audit_topic
    runner = CliRunner(
        env={
            "COLUMNS": "200",
            "HUB_BOOTSTRAP_SERVERS": str(hub_settings.bootstrap_servers),
            "HUB_DATA_DIR": str(tmp_path),
            "HUB_KEYS_DIR": str(store.root),
        }
    )
    heads = tmp_path / "heads.json"
    ok = runner.invoke(
        audit_cli.app, ["verify", topic, "--require-signatures", "--write-heads", str(heads)]
    )
    assert ok.exit_code == 0, ok.output
    assert "24 entries, no break" in ok.output
    assert len(json.loads(heads.read_text())["heads"]) == 3

    # the router resumes the chain from the topic and carries on
    chainer = AuditChainer(store.private(HUB))
    resumed = resume_chainer(hub_settings, topic, chainer)
    assert {p: h.seq for p, h in resumed.items() if h} == {0: 7, 1: 7, 2: 7}
    headers = chainer.link(0, key=b"k", value=b"more", headers=make_headers(HUB))
    send_all(hub_settings, topic, [(b"k", b"more", headers, 0)])
    again = runner.invoke(
        audit_cli.app, ["verify", topic, "--require-signatures", "--expect-heads", str(heads)]
    )
    assert again.exit_code == 0, again.output

    # a copy with one entry changed fails, naming partition and offset
    target = topic_factory(partitions=3)
    changed = [r._replace(value=b"{}") if (r.partition, r.offset) == (2, 5) else r for r in records]
    copy_topic(hub_settings, changed, target)
    broken = runner.invoke(audit_cli.app, ["verify", target])
    assert broken.exit_code == 1
    assert "partition 2 offset 5: changed" in broken.output
    truncated = topic_factory(partitions=3)
    copy_topic(hub_settings, [r for r in records if r.offset < 7], truncated)
    cut = runner.invoke(audit_cli.app, ["verify", truncated, "--expect-heads", str(heads)])
    assert cut.exit_code == 1
    assert "truncated" in cut.output
