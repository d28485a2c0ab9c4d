"""Issue 16, part 1, on the real broker through a real router worker: the consent feed is
applied only when the consent service signed it (a ``consent-service`` key) and each
change follows its subject's chain. A forged or altered change has no effect - no
delivery, no erasure - and its refusal is recorded: a dead letter with the reason, the
``rmt_consent_changes_refused_total`` counter, a CRITICAL log naming topic, partition
and offset.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from consent.model import ConsentChangeMessage, Recipient
from consent.outbox import partition_for
from hub.config import HubSettings
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.security.consent_feed import CONSENT_SERVICE_ID, ConsentFeedSigner
from hub.security.signing import RecordSigner
from hub.serde.cloudevents import ce_headers
from schemas.models import ClientProfile, ConsentChange, DeadLetter, ErasureNotice
from schemas.models.enums import ConsentChangeType, DeadLetterReason, HealthNeed, LegalBasis
from schemas.vocabulary import DataCategory, Purpose
from tests.helpers.waiting import wait_until
from tests.plugins.hub import own_hub
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, Received, delivered_ids

pytestmark = pytest.mark.integration

GEMEENTE = "gemeente-amsterdam"
EVERYTHING = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
    DataCategory.HEALTH,
)
Headers = list[tuple[str, bytes]]


@pytest.fixture(scope="module")
def hub(hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub of its own (topics, key store, subject keys) with one router worker."""
    with own_hub(hub_settings, tmp_path_factory.mktemp("consent-feed"), "cf") as made:
        assert made.security, "record security is on by default"
        made.worker().wait_ready(60, partitions=made.settings.topic_partitions)
        yield made


def _change(who: str, change: ConsentChangeType = ConsentChangeType.GIVEN) -> ConsentChangeMessage:
    """A change as an insider would write it: every category, health included, to the
    municipality."""
    now = datetime.now(UTC)
    return ConsentChangeMessage(
        event_id=EventId(str(uuid.uuid4())),
        occurred_at=now,
        source_partner="hub",
        consent_id=ConsentId(f"cns-{uuid.uuid4().hex[:12]}"),
        subject_pseudonym=ClientPseudonym(who),
        change=change,
        controller=PartnerId("uwv"),
        recipients=(Recipient(partner_id=PartnerId(GEMEENTE)),),
        purposes=(Purpose.ARRANGEMENT,),
        data_categories=EVERYTHING,
        legal_basis=LegalBasis.EXPLICIT_CONSENT,
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=30),
        actor="insider",
        recorded_at=now,
        record_hash=uuid.uuid4().hex * 2,
    )


def _ce(message: ConsentChangeMessage, source: str = CONSENT_SERVICE_ID) -> Headers:
    return ce_headers(
        event_id=message.event_id,
        source=source,
        record_type=ConsentChange.avro_name,
        time=message.occurred_at,
    )


def _write(hub: Hub, who: str, value: bytes, headers: Headers) -> None:
    """A plain producer with no keys: exactly these bytes, to the subject's partition."""
    key = who.encode()
    hub.publish_raw(
        hub.catalogue.consent_changes.name,
        key=key,
        value=value,
        headers=headers,
        partition=partition_for(key, hub.settings.topic_partitions),
    )


def _route_marker(hub: Hub, who: str) -> None:
    """Publish a record the router refuses, last, to the subject's partition, and wait for
    its dead letter: everything published before it has been routed by then."""
    marker = records.profile(who, bsn="123456789")
    hub.publish(marker)
    hub.wait_dead_letter(marker.event_id)


def _refusals(hub: Hub, who: str, count: int) -> list[DeadLetter]:
    """The dead letters of the consent feed records about ``who`` (waits for ``count``)."""
    topic = hub.catalogue.consent_changes.name

    def mine(found: list[Received]) -> list[DeadLetter]:
        return [
            r.record
            for r in found
            if isinstance(r.record, DeadLetter)
            and r.record.source_topic == topic
            and r.key == who.encode()
        ]

    found = hub.wait_for(
        hub.dead_letters,
        lambda rs: len(mine(rs)) >= count,
        what=f"{count} dead letter(s) of consent changes about {who}",
    )
    return mine(found)


def _refused_counter(hub: Hub, reason: str) -> float:
    status = hub.workers[0].status() or {}
    response = httpx.get(f"http://127.0.0.1:{status['metrics_port']}/metrics", timeout=10)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if (
                sample.name == "rmt_consent_changes_refused_total"
                and sample.labels.get("reason") == reason
            ):
                return float(sample.value)
    return 0.0


def _logged_critical(hub: Hub, letter: DeadLetter) -> bool:
    log = hub.workers[0].log_file
    assert log is not None
    expected = (
        f"consent change REFUSED at {letter.source_topic} partition "
        f"{letter.source_partition} offset {letter.source_offset}"
    )
    return wait_until(
        lambda: any(
            expected in line and "CRITICAL" in line for line in log.read_text().splitlines()
        ),
        timeout_s=10,
        what=f"CRITICAL log line: {expected}",
        interval_s=0.2,
    )


def _profiles(inbox: list[Received], who: str) -> list[ClientProfile]:
    return [
        r.record
        for r in inbox
        if isinstance(r.record, ClientProfile) and r.record.client_pseudonym == who
    ]


def test_regression_forged_given_on_consent_feed_delivers_nothing(hub: Hub) -> None:
    who = records.subject()
    forged = _change(who)
    _write(hub, who, hub.encode_change(forged), _ce(forged))  # no signature at all
    profile = records.profile(
        who, work_limitation=True, health_needs=[HealthNeed.WORKPLACE_ADAPTATION]
    )
    hub.publish(profile)
    _route_marker(hub, who)

    assert profile.event_id not in delivered_ids(hub.inbox(GEMEENTE))
    assert not _profiles(hub.inbox(GEMEENTE), who)
    (letter,) = _refusals(hub, who, 1)
    assert letter.reason is DeadLetterReason.UNSIGNED
    assert str(letter.event_id) == forged.event_id
    assert letter.original_value == hub.encode_change(forged)  # as it arrived
    assert _refused_counter(hub, "UNSIGNED") >= 1
    assert _logged_critical(hub, letter)


def test_regression_forged_withdrawn_on_consent_feed_erases_nothing(hub: Hub) -> None:
    who = records.subject()
    given = hub.grant(who, to=[GEMEENTE], purposes=[Purpose.ARRANGEMENT], categories=EVERYTHING)
    before = records.profile(
        who, work_limitation=True, health_needs=[HealthNeed.WORKPLACE_ADAPTATION]
    )
    hub.publish(before)
    hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: before.event_id in delivered_ids(rs),
        what="the profile under the genuine consent",
    )
    forged = given.model_copy(
        update={
            "event_id": EventId(str(uuid.uuid4())),
            "change": ConsentChangeType.WITHDRAWN,
            "record_hash": uuid.uuid4().hex * 2,
        }
    )
    _write(hub, who, hub.encode_change(forged), _ce(forged))
    after = records.profile(who)
    hub.publish(after)
    _route_marker(hub, who)

    inbox = hub.inbox(GEMEENTE)
    assert {before.event_id, after.event_id} <= set(delivered_ids(inbox))
    mine = [r for r in inbox if r.key == who.encode()]
    assert not [r for r in mine if isinstance(r.record, ErasureNotice)]
    assert not [r for r in mine if r.value is None], "no tombstone"
    assert [k for k in hub.subject_keys().keys_of(who) if k.destroyed] == []
    (opened,) = [p for p in _profiles(inbox, who) if p.event_id == before.event_id]
    assert opened.health_needs == [HealthNeed.WORKPLACE_ADAPTATION]  # sealed, not shredded
    (letter,) = _refusals(hub, who, 1)
    assert letter.reason is DeadLetterReason.UNSIGNED
    assert _logged_critical(hub, letter)


def test_regression_altered_consent_change_resigned_by_partner_key_is_refused(hub: Hub) -> None:
    who = records.subject()
    topic = hub.catalogue.consent_changes.name
    key = who.encode()
    # the municipality itself, with its valid partner key, widens a consent to itself
    widened = _change(who)
    value = hub.encode_change(widened)
    partner = RecordSigner(hub.keys.private(GEMEENTE))
    signed = partner.sign(topic=topic, key=key, value=value, headers=_ce(widened, GEMEENTE))
    _write(hub, who, value, signed)
    # a genuine change of the consent service, altered after signing (health added)
    genuine = _change(who).model_copy(update={"data_categories": (DataCategory.IDENTITY,)})
    signer = ConsentFeedSigner(hub.keys.private(CONSENT_SERVICE_ID))
    headers = signer.sign(
        topic=topic, key=key, value=hub.encode_change(genuine), headers=_ce(genuine), previous=None
    )
    altered = genuine.model_copy(update={"data_categories": EVERYTHING})
    _write(hub, who, hub.encode_change(altered), headers)
    profile = records.profile(who)
    hub.publish(profile)
    _route_marker(hub, who)

    assert not _profiles(hub.inbox(GEMEENTE), who)
    letters = _refusals(hub, who, 2)
    assert sorted(str(letter.reason) for letter in letters) == [
        "SIGNATURE_INVALID",
        "SIGNER_MISMATCH",
    ]
    (mismatch,) = [d for d in letters if d.reason is DeadLetterReason.SIGNER_MISMATCH]
    assert "consent-service" in mismatch.message
    assert _refused_counter(hub, "SIGNER_MISMATCH") >= 1
    assert _refused_counter(hub, "SIGNATURE_INVALID") >= 1


def test_regression_consent_change_out_of_its_subjects_chain_is_refused(hub: Hub) -> None:
    """Signed by the consent service, but not after the subject's last change (one went
    missing, or an old one was written again): refused, and the subject gets nothing
    until the feed is whole (it might have been a withdrawal)."""
    who = records.subject()
    hub.grant(who, to=[GEMEENTE], purposes=[Purpose.ARRANGEMENT], categories=EVERYTHING)
    topic = hub.catalogue.consent_changes.name
    key = who.encode()
    stray = _change(who)
    value = hub.encode_change(stray)
    signer = ConsentFeedSigner(hub.keys.private(CONSENT_SERVICE_ID))
    headers = signer.sign(topic=topic, key=key, value=value, headers=_ce(stray), previous="f" * 64)
    _write(hub, who, value, headers)
    profile = records.profile(who)
    hub.publish(profile)
    _route_marker(hub, who)

    assert profile.event_id not in delivered_ids(hub.inbox(GEMEENTE))
    (letter,) = _refusals(hub, who, 1)
    assert letter.reason is DeadLetterReason.CHAIN_BROKEN
