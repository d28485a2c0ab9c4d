"""The consent store on SQLite and PostgreSQL: migrations, the append-only register,
its projection, the outbox, leases, identities, disclosures, API keys and console
sessions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from consent.api import hash_key, issue_key
from consent.crypto import BsnVault
from consent.errors import ConsentNotFound, ConsentStoreError
from consent.model import (
    ConsentChangeType,
    ConsentRecord,
    ConsentStatus,
    DisclosureRecord,
    Role,
    utc_now,
    verify_chain,
)
from consent.policy import load_policy
from consent.service import ConsentService
from consent.store import ConsentStore, ConsoleSessionRecord, open_store
from consent.store.migrations import MIGRATIONS, MIGRATIONS_TABLE
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.consent.factories import terms
from topics.partners import load_partners

VAULT = BsnVault(b"k" * 32)


def service_on(store: ConsentStore) -> ConsentService:
    return ConsentService(store, None, policy=load_policy(), partners=load_partners(), vault=VAULT)


def test_migrations_are_recorded_and_applied_once(store: ConsentStore) -> None:
    assert store.schema_version() == MIGRATIONS[-1].version
    assert store.migrate() == []  # nothing left to apply
    assert store.schema_version() == MIGRATIONS[-1].version


def test_fresh_database_gets_every_migration(database_url: str) -> None:
    fresh = open_store(database_url)
    try:
        assert fresh.migrate() == [m.version for m in MIGRATIONS]
    finally:
        fresh.close()


def test_a_newer_schema_is_refused(store: ConsentStore, database_url: str) -> None:
    with store.transaction() as tx:
        tx._execute(  # type: ignore[attr-defined]
            f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
            (999, "from the future", store._ts_in(utc_now())),  # type: ignore[attr-defined]
        )
    other = open_store(database_url)
    try:
        with pytest.raises(ConsentStoreError, match="999"):
            other.migrate()
    finally:
        other.close()


def test_grant_and_withdraw_are_events_and_the_projection_follows(store: ConsentStore) -> None:
    service = service_on(store)
    given = service.grant(terms("client-store-1"), actor="officer:a")
    withdrawn = service.withdraw(given.id, actor="officer:b", reason="changed my mind")
    assert withdrawn.status is ConsentStatus.WITHDRAWN
    assert store.get(given.id) == withdrawn
    events = store.events(consent_id=given.id)
    assert [e.change for e in events] == [ConsentChangeType.GIVEN, ConsentChangeType.WITHDRAWN]
    assert [e.actor for e in events] == ["officer:a", "officer:b"]
    assert events[0].seq < events[1].seq
    assert verify_chain(events)
    # the projection is the last event's state: rebuildable from the register
    assert events[-1].record == store.get(given.id)
    assert store.for_subject(ClientPseudonym("client-store-1")) == [withdrawn]


def test_the_register_is_append_only(store: ConsentStore) -> None:
    service_on(store).grant(terms("client-store-2"), actor="officer:a")
    for statement in ("UPDATE consent_events SET actor = 'mallory'", "DELETE FROM consent_events"):
        with pytest.raises(ConsentStoreError, match="append-only"), store.transaction() as tx:
            tx._execute(statement)  # type: ignore[attr-defined]
    assert [e.actor for e in store.events(subject=ClientPseudonym("client-store-2"))] == [
        "officer:a"
    ]


def test_a_tampered_history_does_not_verify(store: ConsentStore) -> None:
    service = service_on(store)
    given = service.grant(terms("client-store-3"), actor="officer:a")
    service.withdraw(given.id, actor="officer:a")
    events = store.events(consent_id=given.id)
    forged_record = events[0].record.model_copy(
        update={"data_categories": (DataCategory.CONTACT, DataCategory.HEALTH)}
    )
    forged = [events[0].model_copy(update={"record": forged_record}), events[1]]
    assert verify_chain(events)
    assert not verify_chain(forged)
    assert not verify_chain([events[1]])  # a dropped event breaks the chain


def test_withdrawing_is_idempotent_and_unknown_ids_are_not_found(store: ConsentStore) -> None:
    service = service_on(store)
    given = service.grant(terms("client-store-4"), actor="officer:a")
    first = service.withdraw(given.id, actor="officer:a")
    second = service.withdraw(given.id, actor="officer:b")
    assert first == second
    assert len(store.events(consent_id=given.id)) == 2
    with pytest.raises(ConsentNotFound):
        service.withdraw(ConsentId("no-such-consent"), actor="officer:a")


def test_concurrent_withdrawals_record_one_event(store: ConsentStore, database_url: str) -> None:
    given = service_on(store).grant(terms("client-store-5"), actor="officer:a")
    others = [open_store(database_url) for _ in range(4)]
    errors: list[BaseException] = []

    def withdraw(other: ConsentStore) -> None:
        try:
            service_on(other).withdraw(given.id, actor="officer:x")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=withdraw, args=(o,)) for o in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in others:
        other.close()
    assert errors == []
    changes = [e.change for e in store.events(consent_id=given.id)]
    assert changes == [ConsentChangeType.GIVEN, ConsentChangeType.WITHDRAWN]


def test_expiry_is_recorded_by_the_sweep(store: ConsentStore) -> None:
    service = service_on(store)
    now = utc_now()
    given = service.grant(terms("client-store-6", valid_until=now + timedelta(hours=1)), actor="a")
    assert service.sweep_expired(now) == 0
    later = now + timedelta(hours=2)
    assert store.due_expiries(later) == [given.id]
    assert service.sweep_expired(later) == 1
    assert service.sweep_expired(later) == 0
    expired = store.get(given.id)
    assert expired is not None
    assert expired.status is ConsentStatus.EXPIRED
    events = store.events(consent_id=given.id)
    assert events[-1].change is ConsentChangeType.EXPIRED
    assert events[-1].occurred_at == given.valid_until
    assert verify_chain(events)
    # an expired consent cannot be withdrawn any more: nothing happens
    assert service.withdraw(given.id, actor="a").status is ConsentStatus.EXPIRED
    assert len(store.events(consent_id=given.id)) == 2


def test_every_change_queues_one_outbox_row_in_order(store: ConsentStore) -> None:
    service = service_on(store)
    given = service.grant(terms("client-store-7"), actor="a")
    service.withdraw(given.id, actor="a")
    rows = store.pending_outbox()
    events = store.events(consent_id=given.id)
    assert [r.event_id for r in rows] == [e.event_id for e in events]
    assert [r.message.change for r in rows] == [
        ConsentChangeType.GIVEN,
        ConsentChangeType.WITHDRAWN,
    ]
    assert all(r.key == "client-store-7" for r in rows)
    assert rows[0].message.record_hash == events[0].event_hash
    assert store.mark_published(rows[0].event_id, "topic", 1, 41, utc_now())
    assert not store.mark_published(rows[0].event_id, "topic", 1, 99, utc_now())
    assert [r.event_id for r in store.pending_outbox()] == [rows[1].event_id]
    assert store.last_published_offset("topic", 1) == 41
    assert store.last_published_offset("topic", 0) is None
    published = store.outbox_row(rows[0].event_id)
    assert published is not None
    assert published.offset == 41
    assert published.published_at is not None


def test_leases(store: ConsentStore) -> None:
    now = utc_now()
    assert store.acquire_lease("relay", "a", now, 5)
    assert store.acquire_lease("relay", "a", now, 5)  # renewal
    assert not store.acquire_lease("relay", "b", now, 5)
    assert store.lease_holder("relay") == "a"
    assert store.acquire_lease("relay", "b", now + timedelta(seconds=6), 5)  # expired
    assert not store.acquire_lease("relay", "a", now + timedelta(seconds=6), 5)
    assert store.acquire_lease("relay", "c", now, 5, steal_from="b")  # b is known dead
    store.release_lease("relay", "c")
    assert store.lease_holder("relay") is None


def test_bsn_is_stored_encrypted_and_found_by_keyed_hash(store: ConsentStore) -> None:
    service = service_on(store)
    from pydantic import SecretStr  # noqa: PLC0415

    service.grant(terms("client-store-8"), actor="a", bsn=SecretStr("111222333"))
    identity = store.identity(ClientPseudonym("client-store-8"))
    assert identity is not None
    assert b"111222333" not in identity.bsn_ciphertext
    assert "111222333" not in identity.bsn_lookup
    assert VAULT.decrypt(identity.bsn_ciphertext, "client-store-8") == "111222333"
    assert service.subjects_by_bsn(SecretStr("111 222 333")) == ["client-store-8"]
    assert service.subjects_by_bsn(SecretStr("123456782")) == []
    dump = "\n".join(
        str(row)
        for row in store._query("SELECT * FROM consent_subject_identities")  # type: ignore[attr-defined]
    )
    assert "111222333" not in dump


def test_another_bsn_for_a_known_subject_is_a_conflict(store: ConsentStore) -> None:
    from pydantic import SecretStr  # noqa: PLC0415

    from consent.errors import ConsentConflict  # noqa: PLC0415

    service = service_on(store)
    service.grant(terms("client-store-9"), actor="a", bsn=SecretStr("111222333"))
    service.grant(terms("client-store-9"), actor="a", bsn=SecretStr("111222333"))  # same: fine
    with pytest.raises(ConsentConflict):
        service.grant(terms("client-store-9"), actor="a", bsn=SecretStr("123456782"))
    assert len(store.for_subject(ClientPseudonym("client-store-9"))) == 2  # rolled back


def test_disclosures_are_idempotent(store: ConsentStore) -> None:
    disclosure = DisclosureRecord(
        subject=ClientPseudonym("client-store-10"),
        recipient=PartnerId("uwv"),
        recipient_kind=PartnerKind.UWV,
        purpose=Purpose.MATCHING_PLACEMENT,
        data_categories=(DataCategory.CONTACT,),
        consent_ids=(ConsentId("c-1"),),
        disclosed_at=utc_now(),
        source_event_id=EventId("e-1"),
    )
    assert store.add_disclosure(disclosure)
    assert not store.add_disclosure(disclosure)
    assert store.disclosures_for(ClientPseudonym("client-store-10")) == [disclosure]


def test_api_keys_are_stored_as_hashes(store: ConsentStore) -> None:
    record, key = issue_key(store, Role.PARTNER, "uwv-system", "uwv")
    assert store.api_key_by_hash(hash_key(key)) == record
    rows = store._query("SELECT * FROM consent_api_keys")  # type: ignore[attr-defined]
    assert key not in str(rows)
    assert store.revoke_api_key(record.key_id, utc_now())
    revoked = store.api_key_by_hash(hash_key(key))
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert [k.key_id for k in store.list_api_keys()] == [record.key_id]


def test_iterating_and_counting(store: ConsentStore) -> None:
    service = service_on(store)
    ids = {service.grant(terms(f"client-iter-{i}"), actor="a").id for i in range(5)}
    service.withdraw(next(iter(ids)), actor="a")
    assert {r.id for r in store.iter_records(batch=2)} == ids
    assert store.status_counts(utc_now()) == {"GIVEN": 4, "WITHDRAWN": 1, "EXPIRED": 0}
    records: list[ConsentRecord] = list(store.iter_records())
    assert len(records) == 5


def test_console_sessions_end_on_sign_out_and_on_expiry(store: ConsentStore) -> None:
    now = utc_now()
    hour = timedelta(hours=1)
    for name, ends in (("signed-out", now + hour), ("expires", now + hour), ("old", now - hour)):
        store.add_console_session(ConsoleSessionRecord(name * 2, "key-1", now - 2 * hour, ends))
    held = store.console_session("signed-out" * 2, now)
    assert held is not None
    assert held.key_id == "key-1"
    assert held.expires_at == now + hour
    assert store.end_console_session("signed-out" * 2) is True
    assert store.console_session("signed-out" * 2, now) is None
    assert store.end_console_session("signed-out" * 2) is False
    assert store.console_session("expires" * 2, now) is not None
    assert store.console_session("expires" * 2, now + hour) is None  # expired: deleted
    assert store.end_console_session("expires" * 2) is False
    assert store.purge_console_sessions(now) == 1  # the old one
    assert store.console_session("old" * 2, now - 2 * hour) is None
