"""The outbox relay on the real broker: order, keys, headers, reconciliation, leadership."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent.errors import PublishTimeout
from consent.model import utc_now
from consent.outbox import LEASE_NAME, OutboxRelay, json_encoder, partition_for
from consent.policy import load_policy
from consent.runtime import ensure_consent_topic
from consent.service import ConsentService
from consent.store import ConsentStore
from hub.config import HubSettings
from hub.errors import HubError
from hub.kafka import producer
from hub.security.consent_feed import (
    CONSENT_SERVICE_ID,
    ConsentFeedSigner,
    ConsentFeedVerifier,
    previous_hash,
)
from hub.security.headers import SIG
from hub.security.hub_identity import ensure_identity
from hub.security.keys import KeyStore
from hub.serde import CloudEvent
from schemas import codec
from schemas.models.consent import ConsentChange
from tests.consent.factories import terms
from tests.consent.feed import event_ids, read_topic
from tests.consent.test_store import VAULT
from tests.helpers.consent import consent_settings, delete_topic
from topics.partners import load_partners


@pytest.fixture
def feed_settings(
    hub_settings: HubSettings, database_url: str, tmp_path: Path
) -> Iterator[HubSettings]:
    settings = consent_settings(hub_settings, database_url, tmp_path)
    topic = ensure_consent_topic(settings, load_partners())
    yield settings
    delete_topic(settings, topic)


def _topic(settings: HubSettings) -> str:
    return f"{settings.topic_prefix}.consent.changes"


def _relay(store: ConsentStore, settings: HubSettings, **options: object) -> OutboxRelay:
    return OutboxRelay(store, settings, _topic(settings), **options)  # type: ignore[arg-type]


def _service(store: ConsentStore, relay: OutboxRelay | None) -> ConsentService:
    return ConsentService(store, relay, policy=load_policy(), partners=load_partners(), vault=VAULT)


def test_changes_are_published_in_order_keyed_by_subject(
    store: ConsentStore, feed_settings: HubSettings
) -> None:
    relay = _relay(store, feed_settings)
    try:
        service = _service(store, relay)
        first = service.grant(terms("client-feed-1"), actor="officer:a")
        service.grant(terms("client-feed-2"), actor="officer:a")
        service.withdraw(first.id, actor="officer:a")
        assert store.pending_outbox() == []  # each call returned once published
    finally:
        relay.stop()
    records = read_topic(feed_settings, _topic(feed_settings))
    events = store.events()
    assert sorted(event_ids(records)) == sorted(e.event_id for e in events)
    for record in records:
        assert record.partition == partition_for(record.key, feed_settings.topic_partitions)
        change = codec.decode("nl.rmt.hub.ConsentChange", record.value)
        assert isinstance(change, ConsentChange)
        assert record.key.decode() == change.subject_pseudonym
        assert dict(record.headers)["ce_id"].decode() == change.event_id
        cloud_event = CloudEvent.from_headers(record.headers)
        assert (cloud_event.id, cloud_event.type) == (change.event_id, ConsentChange.avro_name)
    same_subject = [r for r in records if r.key == b"client-feed-1"]
    changes = [codec.decode("nl.rmt.hub.ConsentChange", r.value) for r in same_subject]
    assert [c.change for c in changes] == ["GIVEN", "WITHDRAWN"]  # type: ignore[attr-defined]
    rows = [store.outbox_row(e.event_id) for e in events]
    assert all(r is not None and r.published_at is not None for r in rows)


def _signer(tmp_path: Path) -> tuple[ConsentFeedSigner, KeyStore]:
    keys = KeyStore(tmp_path / "keys")
    return ConsentFeedSigner(ensure_identity(keys, CONSENT_SERVICE_ID)), keys


def test_a_signing_relay_signs_every_change_and_chains_each_subject(
    store: ConsentStore, feed_settings: HubSettings, tmp_path: Path
) -> None:
    signer, keys = _signer(tmp_path)
    relay = _relay(store, feed_settings, signer=signer)
    try:
        service = _service(store, relay)
        first = service.grant(terms("client-chain-1"), actor="officer:a")
        service.grant(terms("client-chain-1"), actor="officer:a")  # a second consent
        service.withdraw(first.id, actor="officer:a")
    finally:
        relay.stop()
    records = read_topic(feed_settings, _topic(feed_settings))
    verifier = ConsentFeedVerifier(keys.directory())
    links = []
    for record in records:
        verdict = verifier.verify(
            topic=record.topic, key=record.key, value=record.value, headers=record.headers
        )
        assert verdict.ok, verdict.detail
        assert verdict.signer == CONSENT_SERVICE_ID
        change = codec.decode("nl.rmt.hub.ConsentChange", record.value)
        assert isinstance(change, ConsentChange)
        links.append((previous_hash(record.headers), change.record_hash))
    hashes = [e.event_hash for e in store.events(subject=first.subject)]
    assert links == [(None, hashes[0]), (hashes[0], hashes[1]), (hashes[1], hashes[2])]


def test_a_signing_relay_republishes_a_feed_published_unsigned(
    store: ConsentStore, feed_settings: HubSettings, tmp_path: Path
) -> None:
    """A feed published before the feed was signed is refused by the router: the relay
    finds it unsigned and publishes the register again, signed."""
    unsigned = _relay(store, feed_settings)
    try:
        _service(store, unsigned).grant(terms("client-chain-2"), actor="officer:a")
    finally:
        unsigned.stop()
    signer, _ = _signer(tmp_path)
    relay = _relay(store, feed_settings, signer=signer)
    try:
        assert relay.verify_feed() == 1
        assert relay.run_once() == 1
    finally:
        relay.stop()
    records = read_topic(feed_settings, _topic(feed_settings))
    assert [any(name == SIG for name, _ in r.headers) for r in records] == [False, True]


def test_reconciliation_finds_changes_sent_before_a_crash(
    store: ConsentStore, feed_settings: HubSettings
) -> None:
    service = _service(store, None)  # commits only, like a process that died before marking
    service.grant(terms("client-feed-3"), actor="officer:a")
    service.grant(terms("client-feed-4"), actor="officer:a")
    rows = store.pending_outbox()
    topic = _topic(feed_settings)
    # the first change reached the broker, but the crash came before the outbox row was marked
    sender = producer(feed_settings)
    key = rows[0].key.encode()
    sender.send(
        topic,
        key=key,
        value=json_encoder(rows[0].message),
        headers=[("ce_id", rows[0].event_id.encode())],
        partition=partition_for(key, feed_settings.topic_partitions),
    ).get(timeout=10)
    sender.close()
    relay = _relay(store, feed_settings)
    try:
        assert relay.run_once() == 1  # only the second is sent
        assert relay.reconciled == 1
    finally:
        relay.stop()
    assert store.pending_outbox() == []
    ids = event_ids(read_topic(feed_settings, topic))
    assert sorted(ids) == sorted(r.event_id for r in rows)  # each exactly once


def test_only_the_lease_holder_publishes_and_others_wait_for_it(
    store: ConsentStore, feed_settings: HubSettings
) -> None:
    leader = _relay(store, feed_settings, interval_s=0.1)
    follower = _relay(store, feed_settings)
    try:
        assert leader.run_once() == 0  # takes the lease
        _service(store, None).grant(terms("client-feed-5"), actor="officer:a")
        event_id = store.pending_outbox()[0].event_id
        assert follower.run_once() == 0
        with pytest.raises(PublishTimeout, match="stored but not yet published"):
            follower.ensure_published(event_id, timeout_s=0.5)
        leader.start()
        row = follower.ensure_published(event_id, timeout_s=10)
        assert row.published_at is not None
        assert leader.published == 1
        assert follower.published == 0
    finally:
        leader.stop()
        follower.stop()
    assert store.lease_holder(LEASE_NAME) is None  # released on stop


def test_a_dead_local_holder_loses_the_lease_at_once(
    store: ConsentStore, feed_settings: HubSettings
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    relay = _relay(store, feed_settings)
    dead = f"{relay.holder.split(':')[0]}:{gone.pid}:crashed"
    assert store.acquire_lease(LEASE_NAME, dead, utc_now(), 60)
    _service(store, None).grant(terms("client-feed-6"), actor="officer:a")
    try:
        started = time.monotonic()
        assert relay.run_once() == 1
        assert time.monotonic() - started < 10
    finally:
        relay.stop()


def test_without_a_broker_the_change_stays_stored_and_pending(
    store: ConsentStore, feed_settings: HubSettings
) -> None:
    nowhere = feed_settings.model_copy(update={"bootstrap_servers": "127.0.0.1:9"})
    relay = _relay(store, nowhere, ack_timeout_s=1.0)
    relay.start()
    try:
        service = _service(store, relay)
        service._publish_timeout_s = 1.0
        started = time.monotonic()
        with pytest.raises(PublishTimeout, match="is recorded") as exc:
            service.grant(terms("client-feed-7"), actor="officer:a")
        assert time.monotonic() - started < 3
    finally:
        relay.stop()
    stored = store.for_subject("client-feed-7")  # type: ignore[arg-type]
    assert len(stored) == 1
    assert stored[0].id in str(exc.value)
    assert len(store.pending_outbox()) == 1


def test_a_topic_that_lost_the_feed_is_rebuilt_from_the_register(
    store: ConsentStore, feed_settings: HubSettings
) -> None:
    topic = _topic(feed_settings)
    relay = _relay(store, feed_settings)
    try:
        service = _service(store, relay)
        given = service.grant(terms("client-feed-8"), actor="officer:a")
        service.withdraw(given.id, actor="officer:a")
    finally:
        relay.stop()
    restarted = _relay(store, feed_settings)  # a new term on the intact topic: nothing resent
    try:
        assert restarted.run_once() == 0
        assert restarted.requeued == 0
    finally:
        restarted.stop()
    delete_topic(feed_settings, topic)  # the broker forgot everything
    deadline = time.monotonic() + 20
    while True:
        try:
            ensure_consent_topic(feed_settings, load_partners())
            break
        except HubError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    rebuilt = _relay(store, feed_settings)
    try:
        assert rebuilt.run_once() == 2
        assert rebuilt.requeued == 2
    finally:
        rebuilt.stop()
    events = store.events(consent_id=given.id)
    assert event_ids(read_topic(feed_settings, topic)) == [e.event_id for e in events]
