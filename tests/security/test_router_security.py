"""Issue 8 on the real broker, through a real router worker (a subprocess, as in production).

Partners publish sealed records (encrypted to the hub, signed) with the SDK or as the SDK
does; the router verifies them against the outbox's owner, refuses what fails with the
right dead-letter reason, delivers encrypted per recipient and hub-signed, seals
special-category fields per subject and destroys the subject's key when the consent
ends, and hash-chains its audit topic so ``rmt-hub audit verify`` can check it.
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import NewTopic
from typer.testing import CliRunner

from consent.subject_keys import subject_key_store
from hub.cli import audit as audit_cli
from hub.ids import EventId
from hub.kafka import admin_client, create_topics
from hub.router.validation import partition_of
from hub.sdk import PartnerClient
from hub.sdk.security import open_sealed_fields
from hub.security.envelope import EnvelopeDecryptor
from hub.security.errors import NotForRecipient, SubjectKeyShredded
from hub.security.headers import SIG
from hub.security.hub_identity import HUB_ID
from hub.security.keys import KeyStatus, KeyStore
from hub.security.pipeline import PartnerSecurity
from hub.security.shredding import FieldSealer
from hub.security.signing import RecordVerifier
from hub.serde.canonical import cloud_event_headers
from schemas import codec
from schemas.models import (
    ClientProfile,
    DeadLetter,
    DisclosureEvent,
    ErasureNotice,
    RejectionNotice,
    RoutingState,
)
from schemas.models.enums import DeadLetterReason, HealthNeed
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, Received, delivered_ids
from tests.router.helpers.workers import fresh_worker

pytestmark = pytest.mark.integration

GEMEENTE = "gemeente-amsterdam"
OTHERS = ("uwv", "sbb", "gemeente-rotterdam", "mbo-amsterdam", "sp-werkgevers")
PROFILE_CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
)
Headers = list[tuple[str, bytes]]


def outbox(hub: Hub, partner: str = "uwv") -> str:
    return hub.catalogue.outbox(partner).name


def consented(hub: Hub, *categories: DataCategory) -> tuple[str, Any]:
    who = records.subject()
    consent = hub.grant(
        who,
        to=[GEMEENTE],
        purposes=[Purpose.ARRANGEMENT],
        categories=categories or PROFILE_CATEGORIES,
    )
    return who, consent


def sealed(
    hub: Hub,
    record: ClientProfile,
    security: PartnerSecurity,
    *,
    source: str = "uwv",
) -> tuple[bytes, Headers]:
    """``record`` for UWV's outbox, encrypted to the hub and signed by ``security``."""
    headers = [
        (k, source.encode() if k == "ce_source" else v) for k, v in cloud_event_headers(record)
    ]
    value, out = security.seal_outbound(
        topic=outbox(hub),
        key=record.client_pseudonym.encode(),
        value=hub.codec.encode(record, outbox(hub)),
        headers=headers,
    )
    assert value is not None
    return value, out


def produce(hub: Hub, record: ClientProfile, value: bytes | None, headers: Headers) -> None:
    key = record.client_pseudonym.encode()
    hub.publish_raw(
        outbox(hub),
        key=key,
        value=value,
        headers=headers,
        partition=partition_of(key, hub.settings.topic_partitions),
    )


def extra_uwv_key(hub: Hub, tmp: Path, *, status: KeyStatus, past: bool) -> PartnerSecurity:
    """A second UWV key generation in the hub's directory: revoked, or expired long ago."""
    moment = datetime.now(UTC) - timedelta(days=30 if past else 0)
    store = KeyStore(tmp, clock=lambda: moment)
    store.new("uwv", valid_for=timedelta(days=1))
    record = store.directory().current("uwv", moment).model_copy(update={"status": status})
    hub.keys.add_public(record)
    return PartnerSecurity(
        keys=store.private("uwv"),
        directory=hub.keys.directory(),
        clock=lambda: moment.timestamp() + 60,
    )


def test_bad_records_are_dead_lettered_by_the_router_with_their_reason(
    hub: Hub, tmp_path: Path
) -> None:
    who, _ = consented(hub)
    uwv = hub.partner("uwv")
    with PartnerClient(hub.settings, "uwv", dedupe=False) as client:  # the SDK seals
        first = records.profile(who)
        assert client.publish(first).published
        client.flush()
    hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: first.event_id in delivered_ids(rs),
        what="the SDK's record in the gemeente's inbox",
    )
    good = records.profile(who)
    good_value, good_headers = sealed(hub, good, uwv)
    produce(hub, good, good_value, good_headers)

    revoked = extra_uwv_key(hub, tmp_path / "revoked", status=KeyStatus.REVOKED, past=False)
    expired = extra_uwv_key(hub, tmp_path / "expired", status=KeyStatus.ACTIVE, past=True)
    stranger = KeyStore(tmp_path / "stranger")
    stranger.new("uwv")
    unknown = PartnerSecurity(keys=stranger.private("uwv"), directory=hub.keys.directory())
    time.sleep(1.0)  # the router reloads the directory file when it changes

    def bad(reason: DeadLetterReason, make: Any) -> tuple[DeadLetterReason, ClientProfile]:
        record = records.profile(who)
        value, headers = make(record)
        produce(hub, record, value, headers)
        return reason, record

    def forged(record: ClientProfile) -> tuple[bytes, Headers]:
        value, headers = sealed(hub, record, uwv)
        return value, [(k, base64.b64encode(bytes(64)) if k == SIG else v) for k, v in headers]

    def tampered(record: ClientProfile) -> tuple[bytes, Headers]:
        value, headers = sealed(hub, record, uwv)
        return value[:-1] + bytes([value[-1] ^ 1]), headers

    def not_encrypted(record: ClientProfile) -> tuple[bytes, Headers]:
        value = hub.codec.encode(record, outbox(hub))
        key = record.client_pseudonym.encode()
        return value, uwv.sign_outbound(
            topic=outbox(hub), key=key, value=value, headers=cloud_event_headers(record)
        )

    municipality = hub.partner("gemeente-rotterdam")
    refused = [
        bad(DeadLetterReason.SIGNATURE_INVALID, forged),
        bad(
            DeadLetterReason.SIGNER_MISMATCH,  # signed by another partner, claiming to be UWV
            lambda r: sealed(hub, r, municipality),
        ),
        bad(
            DeadLetterReason.SIGNER_MISMATCH,  # another partner, as itself, in UWV's outbox
            lambda r: sealed(hub, r, municipality, source="gemeente-rotterdam"),
        ),
        bad(DeadLetterReason.SIGNATURE_INVALID, tampered),
        bad(
            DeadLetterReason.UNSIGNED,
            lambda r: (hub.codec.encode(r, outbox(hub)), cloud_event_headers(r)),
        ),
        bad(DeadLetterReason.DECODE_ERROR, not_encrypted),
        bad(DeadLetterReason.KEY_UNKNOWN, lambda r: sealed(hub, r, unknown)),
        bad(DeadLetterReason.KEY_REVOKED, lambda r: sealed(hub, r, revoked)),
        bad(DeadLetterReason.KEY_EXPIRED, lambda r: sealed(hub, r, expired)),
    ]
    produce(hub, good, good_value, good_headers)  # the very same record, replayed
    refused.append((DeadLetterReason.REPLAYED, good))
    after = records.profile(who)
    hub.publish(after)  # the router moves on

    for reason, record in refused:
        letter = hub.wait_dead_letter(record.event_id).record
        assert isinstance(letter, DeadLetter)
        assert letter.reason is reason, (reason, letter.message)
        assert letter.source_partner == "uwv"
        assert letter.source_topic == outbox(hub)
    replayed = hub.wait_dead_letter(good.event_id)
    assert isinstance(replayed.record, DeadLetter)
    assert "already accepted at another offset" in replayed.record.message

    inbox = hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: {good.event_id, after.event_id} <= set(delivered_ids(rs)),
        what="the good records",
    )
    ids = delivered_ids(inbox)
    assert ids.count(good.event_id) == 1  # the replay delivered nothing
    assert not {r.event_id for _, r in refused} - {good.event_id} & set(ids)

    # UWV hears of every refusal in its own (encrypted, hub-signed) inbox
    notices = hub.wait_for(
        lambda: hub.inbox("uwv"),
        lambda rs: len([r for r in rs if isinstance(r.record, RejectionNotice)]) >= len(refused),
        what="the rejection notices",
    )
    got = {
        (n.record.rejected_event_id, n.record.reason)
        for n in notices
        if isinstance(n.record, RejectionNotice)
    }
    assert {(r.event_id, reason) for reason, r in refused} <= got

    # the dead letters are the hub's own records: signed by the hub
    verifier = RecordVerifier(hub.keys.directory())
    for letter in hub.dead_letters():
        verdict = verifier.verify(
            topic=letter.topic,
            key=letter.key,
            value=letter.raw,
            headers=list(letter.headers.items()),
            expected_signer=HUB_ID,
        )
        assert verdict.ok, verdict


def test_an_inbox_is_readable_by_its_partner_only(hub: Hub) -> None:
    who, _ = consented(hub)
    published = [records.profile(who) for _ in range(5)]
    for record in published:
        hub.publish(record)
    inbox = hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: {r.event_id for r in published} <= set(delivered_ids(rs)),
        what="the deliveries",
    )
    mine = [r for r in inbox if r.raw is not None and r.key == who.encode()]
    assert len(mine) == len(published)
    marker = published[0].family_name
    assert marker
    for received in mine:
        assert received.raw != received.value  # encrypted on the topic
        assert marker.encode() not in received.raw
        assert published[0].bsn is not None
        assert published[0].bsn.encode() not in received.raw
    raw_records = hub.read(hub.catalogue.inbox(GEMEENTE).name, decode=False)
    readable = 0
    for raw in raw_records:
        if raw.raw is None:
            continue
        headers = list(raw.headers.items())
        opened = hub.partner(GEMEENTE).open_inbound(
            topic=raw.topic, key=raw.key, value=raw.raw, headers=headers
        )
        readable += opened.value is not None
        for intruder in OTHERS:
            with pytest.raises(NotForRecipient):
                hub.partner(intruder).open_inbound(
                    topic=raw.topic, key=raw.key, value=raw.raw, headers=headers
                )
    assert readable == len([r for r in raw_records if r.raw is not None]) >= len(published)
    # nor can the gemeente read what UWV published for the hub
    gemeente = EnvelopeDecryptor(hub.keys.private_keys(GEMEENTE))
    sealed_for_hub = [
        r for r in hub.read(outbox(hub), decode=False) if r.raw and "rmt-enc-key" in r.headers
    ]
    assert sealed_for_hub
    for raw in sealed_for_hub:
        with pytest.raises(NotForRecipient):
            gemeente.decrypt(
                topic=raw.topic, key=raw.key, value=raw.raw, headers=list(raw.headers.items())
            )


def _delivered_profile(hub: Hub, event_id: str) -> Received:
    inbox = hub.wait_for(
        lambda: hub.read(hub.catalogue.inbox(GEMEENTE).name, decode=False),
        lambda rs: any(r.headers.get("rmt-source-event-id") == event_id.encode() for r in rs),
        what=f"the delivery of {event_id}",
    )
    return next(r for r in inbox if r.headers.get("rmt-source-event-id") == event_id.encode())


def _as_gemeente(hub: Hub, received: Received) -> ClientProfile:
    opened = hub.partner(GEMEENTE).open_inbound(
        topic=received.topic,
        key=received.key,
        value=received.raw,
        headers=list(received.headers.items()),
    )
    assert opened.value is not None
    record = hub.codec.decode(opened.value, _ctx(received))
    assert isinstance(record, ClientProfile)
    return record


def _ctx(received: Received) -> Any:
    from hub.serde import SerializationContext  # noqa: PLC0415

    return SerializationContext(received.topic, partition=received.partition)


def test_after_withdrawal_delivered_health_fields_are_unreadable_by_anyone(hub: Hub) -> None:
    who, consent = consented(hub, *PROFILE_CATEGORIES, DataCategory.HEALTH)
    profile = records.profile(
        who, work_limitation=True, health_needs=[HealthNeed.WORKPLACE_ADAPTATION]
    )
    hub.publish(profile)
    delivered = _as_gemeente(hub, _delivered_profile(hub, profile.event_id))
    # sealed: the plaintext record the gemeente decrypts holds tokens, not the values
    assert delivered.work_limitation is None
    assert delivered.health_needs is None
    assert delivered.sealed_fields is not None
    assert set(delivered.sealed_fields) == {"work_limitation", "health_needs"}
    assert delivered.family_name == profile.family_name  # other categories in the clear
    keys = subject_key_store(hub.settings, cache_ttl_s=0.0)
    try:
        opened = open_sealed_fields(delivered, FieldSealer(keys), on_shredded="raise")
        assert opened.work_limitation is True
        assert opened.health_needs == [HealthNeed.WORKPLACE_ADAPTATION]

        hub.withdraw(consent)
        hub.wait_for(
            lambda: hub.inbox(GEMEENTE),
            lambda rs: any(
                isinstance(r.record, ErasureNotice) and r.record.consent_id == consent.consent_id
                for r in rs
            ),
            what="the erasure notice",
        )
        assert keys.is_shredded(who)
        again = _as_gemeente(hub, _delivered_profile(hub, profile.event_id))
        assert again.sealed_fields == delivered.sealed_fields  # the record itself stays ...
        fresh = subject_key_store(hub.settings, cache_ttl_s=0.0)  # any process, any time
        try:
            for provider in (keys, fresh):  # ... but its special fields open for nobody
                sealer = FieldSealer(provider)
                for field, token in again.sealed_fields.items():
                    with pytest.raises(SubjectKeyShredded):
                        sealer.open_value(who, field, token)
            gone = open_sealed_fields(again, FieldSealer(fresh))
            assert gone.work_limitation is None
            assert gone.health_needs is None
        finally:
            fresh.close()

        # a new consent: new data is sealed with a new key, and opens
        hub.grant(
            who,
            to=[GEMEENTE],
            purposes=[Purpose.ARRANGEMENT],
            categories=(*PROFILE_CATEGORIES, DataCategory.HEALTH),
        )
        later = records.profile(who, work_limitation=True)
        hub.publish(later)
        renewed = _as_gemeente(hub, _delivered_profile(hub, later.event_id))
        assert open_sealed_fields(renewed, FieldSealer(keys)).work_limitation is True
        for field, token in again.sealed_fields.items():  # the old data stays gone
            with pytest.raises(SubjectKeyShredded):
                FieldSealer(keys).open_value(who, field, token)
    finally:
        keys.close()


def _verify(hub: Hub, topic: str | None = None, *extra: str) -> Any:
    runner = CliRunner(
        env={
            "COLUMNS": "200",
            "HUB_BOOTSTRAP_SERVERS": str(hub.settings.bootstrap_servers),
            "HUB_TOPIC_PREFIX": hub.settings.topic_prefix,
            "HUB_DATA_DIR": str(hub.settings.data_dir),
        }
    )
    return runner.invoke(audit_cli.app, ["verify", *([topic] if topic else []), *extra])


def test_audit_verify_passes_on_the_routers_log_and_fails_on_a_modified_entry(
    hub: Hub,
) -> None:
    who, _ = consented(hub)
    first = [records.profile(who) for _ in range(4)]
    for record in first:
        hub.publish(record)
    hub.wait_for(
        hub.audit,
        lambda rs: (
            {r.event_id for r in first}
            <= {str(getattr(a.record, "source_event_id", "")) for a in rs}
        ),
        what="the audit records",
    )
    ok = _verify(hub, None, "--require-signatures")
    assert ok.exit_code == 0, ok.output
    assert "no break" in ok.output

    # a restarted worker resumes each partition's chain from the topic
    for worker in list(hub.workers):
        worker.stop()
        hub.workers.remove(worker)
    hub.worker("w2").wait_ready(60, partitions=hub.settings.topic_partitions)
    more = [records.profile(who) for _ in range(3)]
    for record in more:
        hub.publish(record)
    audit = hub.wait_for(
        hub.audit,
        lambda rs: (
            {r.event_id for r in more}
            <= {str(getattr(a.record, "source_event_id", "")) for a in rs}
        ),
        what="the audit records after the restart",
    )
    again = _verify(hub, None, "--require-signatures")
    assert again.exit_code == 0, again.output
    assert f"{len(audit)} entries, no break" in again.output

    # a copy of the log with one entry modified fails, naming where
    victim = next(r for r in audit if r.key == who.encode())
    copy = f"{hub.settings.topic_prefix}.audit-copy-{uuid.uuid4().hex[:6]}"
    admin = admin_client(hub.settings)
    try:
        create_topics(admin, [NewTopic(copy, hub.settings.topic_partitions, 1)])
    finally:
        admin.close()
    for entry in audit:
        value = entry.raw
        if (entry.partition, entry.offset) == (victim.partition, victim.offset):
            assert value is not None
            value = value.replace(GEMEENTE.encode(), b"gemeente-almere")
            assert value != entry.raw
        hub.publish_raw(
            copy,
            key=entry.key,
            value=value,
            headers=list(entry.headers.items()),
            partition=entry.partition,
        )
    broken = _verify(hub, copy)
    assert broken.exit_code == 1, broken.output
    at = sorted(e.offset for e in audit if e.partition == victim.partition).index(victim.offset)
    assert f"partition {victim.partition} offset {at}: changed" in broken.output
    untouched = _verify(hub, None, "--require-signatures")  # the real log still verifies
    assert untouched.exit_code == 0, untouched.output


def test_the_sdk_reads_its_inbox_and_deliveries_name_their_origin(hub: Hub) -> None:
    """The SDK verifies and decrypts every inbox record; a delivery names who published
    it (covered by the hub's signature)."""
    who, _ = consented(hub)
    with PartnerClient(hub.settings, "uwv", dedupe=False) as client:
        record = client.stamp(records.profile(who))
        client.publish(record)
        client.flush()
    received = _delivered_profile(hub, record.event_id)
    assert received.headers["rmt-origin-source"] == b"uwv"
    assert received.headers["rmt-origin-event"] == EventId(record.event_id).encode()
    with PartnerClient(hub.settings, GEMEENTE, group_id=f"{hub.settings.topic_prefix}.t") as sdk:
        seen = list(sdk.subscribe(idle_timeout_s=2))
    assert seen
    assert all(m.error is None for m in seen), [m.error for m in seen if m.error]
    assert record.event_id in {getattr(m.record, "event_id", None) for m in seen}


def _raw_bytes(hub: Hub, topic: str) -> bytes:
    """Everything a reader of ``topic`` without keys sees: keys, values, header values."""
    found = hub.read(topic, decode=False)  # Received.raw: the value as on the topic
    parts: list[bytes] = []
    for received in found:
        parts += [received.key or b"", received.raw or b""]
        parts += list(received.headers.values())
    return b"\x00".join(parts)


def test_regression_refused_encrypted_record_leaves_no_plaintext_in_dead_letters(
    hub: Hub,
) -> None:
    """A signed record encrypted to the hub that fails validation was dead-lettered with
    its decrypted value (BSN, names, health) in original_value; the dead letter now keeps
    the record exactly as it arrived: ciphertext, key and headers."""
    who = records.subject()
    given, family = f"Zoë{uuid.uuid4().hex[:8]}", f"Ymkes{uuid.uuid4().hex[:8]}"
    bsn = "987654320"  # fails the eleven-test
    refused = records.profile(
        who,
        bsn=bsn,
        given_name=given,
        family_name=family,
        work_limitation=True,
        health_needs=[HealthNeed.WORKPLACE_ADAPTATION],
    )
    hub.publish(refused)
    dead = hub.wait_dead_letter(refused.event_id)
    letter = dead.record
    assert isinstance(letter, DeadLetter)
    assert letter.reason is DeadLetterReason.BSN_INVALID
    outbox = hub.read(hub.catalogue.outbox("uwv").name, decode=False)
    (arrived,) = [r for r in outbox if r.headers.get("ce_id") == refused.event_id.encode()]
    assert letter.original_value == arrived.raw  # the ciphertext, exactly as it arrived
    assert [(h.name, h.value) for h in letter.original_headers] == list(arrived.headers.items())
    raw = _raw_bytes(hub, hub.catalogue.dead_letter.name)
    for secret in (bsn, given, family, "WORKPLACE_ADAPTATION"):
        assert secret.encode() not in raw, f"{secret!r} in clear on the dead-letter topic"


def test_regression_hub_topics_hold_no_personal_data_or_monitor_pseudonym_in_clear(
    hub: Hub,
) -> None:
    """The routing state held health-derived flags and the monitor pseudonym in clear,
    beside the client pseudonym; dead letters and routing state are now encrypted to the
    operators' key, so a reader of the topics without keys sees none of it."""
    who, _consent = consented(hub, *PROFILE_CATEGORIES, DataCategory.HEALTH)
    given, family = f"Wiebe{uuid.uuid4().hex[:8]}", f"Xandra{uuid.uuid4().hex[:8]}"
    accepted = records.profile(
        who,
        given_name=given,
        family_name=family,
        banenafspraak=True,
        reduced_wage_value=True,
        work_limitation=True,
        health_needs=[HealthNeed.WORKPLACE_ADAPTATION],
    )
    hub.publish(accepted)
    _delivered_profile(hub, accepted.event_id)
    state_topic = hub.catalogue.routing_state.name
    states = hub.wait_for(
        lambda: hub.read(state_topic),
        lambda rs: any(getattr(r.record, "source_event_id", None) == accepted.event_id for r in rs),
        what="the routing state of the accepted profile",
    )
    (state,) = [r for r in states if r.record.source_event_id == accepted.event_id]  # type: ignore[union-attr]
    monitor_pseudonym = state.record.monitor_pseudonym  # type: ignore[union-attr]
    assert monitor_pseudonym, "the router feeds the monitor: the state holds its pseudonym"
    assert state.record.banenafspraak is True  # type: ignore[union-attr]
    refused = records.profile(who, bsn="987654320", given_name=given, family_name=family)
    hub.publish(refused)
    hub.wait_dead_letter(refused.event_id)

    for topic in (state_topic, hub.catalogue.dead_letter.name, hub.catalogue.inbox(GEMEENTE).name):
        raw = _raw_bytes(hub, topic)
        for secret in (accepted.bsn, "987654320", given, family, monitor_pseudonym):
            assert secret is not None
            assert secret.encode() not in raw, f"{secret!r} in clear on {topic}"
    for topic in (state_topic, hub.catalogue.dead_letter.name):
        for received in hub.read(topic, decode=False):
            if received.raw is None:
                continue
            assert "rmt-enc-key" in received.headers, f"{topic} holds an unencrypted record"
            with pytest.raises(Exception):  # noqa: B017, PT011 - ciphertext decodes as nothing
                hub.codec.decode(received.raw, _ctx(received))
            opened = hub.open(_as_raw(received))
            assert opened is not None  # the operators' key opens it


def _as_raw(received: Received) -> Any:
    """``received`` as the consumer record :meth:`Hub.open` takes."""
    from types import SimpleNamespace  # noqa: PLC0415

    return SimpleNamespace(
        topic=received.topic,
        key=received.key,
        value=received.raw,
        headers=list(received.headers.items()),
    )


def _state_snapshot(hub: Hub, event_id: str) -> Received:
    """The routing-state record of the accepted record ``event_id``, as on the topic."""
    topic = hub.catalogue.routing_state.name
    found = hub.wait_for(
        lambda: hub.read(topic),
        lambda rs: any(getattr(r.record, "source_event_id", None) == event_id for r in rs),
        what=f"the routing state of {event_id}",
    )
    return next(r for r in found if getattr(r.record, "source_event_id", None) == event_id)


def test_regression_routing_state_held_health_flags_in_clear_for_the_operations_key(
    hub: Hub,
) -> None:
    """The routing state held the health-derived flags (banenafspraak, reduced wage value)
    behind the operators' key only: whoever holds it read them, and they outlived the
    erasure. They are now sealed with the subject's key like every special-category field
    the hub writes: null in the snapshot, unreadable for everyone once the key is gone."""
    who, consent = consented(hub, *PROFILE_CATEGORIES, DataCategory.HEALTH)
    accepted = records.profile(who, banenafspraak=True, reduced_wage_value=True)
    hub.publish(accepted)
    state = _state_snapshot(hub, accepted.event_id)
    assert state.record.banenafspraak is True  # type: ignore[union-attr]  # the router's view
    # what the holder of the operations key reads: the decrypted snapshot, not opened
    plain = hub.open(_as_raw(state))
    assert plain is not None
    snapshot = hub.codec.decode(plain, _ctx(state))
    assert isinstance(snapshot, RoutingState)
    assert snapshot.banenafspraak is None
    assert snapshot.reduced_wage_value is None
    assert snapshot.monitor_banenafspraak is None
    assert snapshot.sealed_fields is not None
    sealed = {"banenafspraak", "reduced_wage_value", "monitor_banenafspraak"}
    assert set(snapshot.sealed_fields) == sealed
    keys = subject_key_store(hub.settings, cache_ttl_s=0.0)
    try:
        opened = open_sealed_fields(snapshot, FieldSealer(keys), on_shredded="raise")
        assert opened.banenafspraak is True
        assert opened.reduced_wage_value is True

        hub.withdraw(consent)  # the key is destroyed: the flags are gone with it
        hub.wait_for(
            lambda: hub.inbox(GEMEENTE),
            lambda rs: any(
                isinstance(r.record, ErasureNotice) and r.record.consent_id == consent.consent_id
                for r in rs
            ),
            what="the erasure notice",
        )
        assert keys.is_shredded(who)
        for field, token in snapshot.sealed_fields.items():
            with pytest.raises(SubjectKeyShredded):
                FieldSealer(keys).open_value(who, field, token)
    finally:
        keys.close()


_CATEGORY_NAMES = [c.value for c in DataCategory]
_FIELD_NAMES = [
    name
    for name in ClientProfile.model_fields
    if len(name) > 5 and name not in {"event_id", "occurred_at", "source_partner"}
]


def test_regression_inbox_headers_named_the_disclosed_categories_and_fields(hub: Hub) -> None:
    """Every delivery carried its DisclosureEvent in clear in the rmt-disclosure header:
    a reader of the inbox topic without keys learnt which categories (health) and fields
    were disclosed, for which purpose, under which consents. The disclosure now travels
    inside the envelope for the recipient (rmt-enc-disclosure) and sealed for the hub
    itself (rmt-hub-disclosure); the recipient still reads it."""
    who, consent = consented(hub, *PROFILE_CATEGORIES, DataCategory.HEALTH)
    profile = records.profile(who, work_limitation=True, banenafspraak=True)
    hub.publish(profile)
    delivery = _delivered_profile(hub, profile.event_id)
    assert "rmt-disclosure" not in delivery.headers
    names = " ".join(delivery.headers).encode()
    values = b"\x00".join(delivery.headers.values())
    for secret in (
        *_CATEGORY_NAMES,
        *_FIELD_NAMES,
        Purpose.ARRANGEMENT.value,
        consent.consent_id,
        "HEALTH",
    ):
        assert secret.encode() not in values, f"{secret!r} in the headers of a delivery"
        assert secret.encode() not in names, f"{secret!r} in a header name of a delivery"
    raw = _raw_bytes(hub, hub.catalogue.inbox(GEMEENTE).name)
    for secret in ("work_limitation", "health_needs", "labour_market_profile", "ARRANGEMENT"):
        assert secret.encode() not in raw, f"{secret!r} in clear on the inbox topic"

    opened = hub.partner(GEMEENTE).open_inbound(
        topic=delivery.topic,
        key=delivery.key,
        value=delivery.raw,
        headers=list(delivery.headers.items()),
    )
    assert opened.disclosure is not None  # the recipient reads what it was given, and why
    event = codec.decode_as(DisclosureEvent, opened.disclosure)
    assert event.recipient == GEMEENTE
    assert DataCategory.HEALTH in event.data_categories
    assert "work_limitation" in event.fields
    assert consent.consent_id in event.consent_ids
    with pytest.raises(NotForRecipient):  # nobody else does
        hub.partner("uwv").open_inbound(
            topic=delivery.topic,
            key=delivery.key,
            value=delivery.raw,
            headers=list(delivery.headers.items()),
        )


def test_regression_a_disclosure_planted_in_an_inbox_was_audited_as_a_delivery(
    hub: Hub,
) -> None:
    """A worker loading a partition took the rmt-disclosure header of any inbox record for
    a delivery of the hub's, and audited the 'missing' disclosure: anyone who could write
    an inbox topic put a disclosure that never happened, hub-signed, into the subject
    access report. A disclosure is now read back only from the hub's sealed copy (or a
    record the hub signed); a planted one is ignored with a CRITICAL line."""
    who, _ = consented(hub)
    genuine = records.profile(who)
    hub.publish(genuine)
    audits = hub.wait_for(
        hub.audit,
        lambda rs: any(getattr(r.record, "source_event_id", None) == genuine.event_id for r in rs),
        what="the audit record of a genuine delivery",
    )
    model = next(
        r.record for r in audits if getattr(r.record, "source_event_id", None) == genuine.event_id
    )
    assert isinstance(model, DisclosureEvent)
    planted_id = str(uuid.uuid4())
    forged = model.model_copy(update={"event_id": planted_id, "source_event_id": planted_id})
    key = who.encode()
    inbox = hub.catalogue.inbox(GEMEENTE).name
    for name, value in (
        ("rmt-disclosure", hub.codec.encode_disclosure(forged)),  # in clear, as before
        ("rmt-hub-disclosure", base64.b64encode(bytes(56))),  # a copy the hub never sealed
    ):
        hub.publish_raw(
            inbox,
            key=key,
            value=b"\x00anything",
            headers=[("ce_id", planted_id.encode()), (name, value)],
            partition=partition_of(key, hub.settings.topic_partitions),
        )
    worker = fresh_worker(hub, f"planted-{planted_id[:6]}")
    after = records.profile(who)  # same partition: its audit is written after any recovery
    hub.publish(after)
    audits = hub.wait_for(
        hub.audit,
        lambda rs: any(getattr(r.record, "source_event_id", None) == after.event_id for r in rs),
        what="the audit record of the next delivery",
    )
    assert planted_id not in {str(getattr(r.record, "event_id", "")) for r in audits}
    assert worker.log_file is not None
    assert "a disclosure the hub did not write" in worker.log_file.read_text()
