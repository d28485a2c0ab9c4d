"""The partner SDK over the real broker: wire format, CloudEvents, dedupe, inbox."""

from __future__ import annotations

import pytest

from hub.config import HubSettings
from hub.ids import PartnerId
from hub.sdk import (
    ForeignRecordError,
    NotPublishableError,
    PartnerClient,
    PublishOutcome,
    UnknownPartnerError,
    event_id_for,
    scan_topic,
)
from hub.sdk.pseudonym import Pseudonymiser
from schemas.examples import example
from tests.connectors.helpers import fill_inbox, profile
from tests.helpers.connectors import plaintext, read_records

pytestmark = pytest.mark.integration


def test_publish_writes_the_wire_format_with_cloudevents_headers(env: HubSettings) -> None:
    with PartnerClient(env, "uwv") as client:
        record = client.stamp(profile(1))
        result = client.publish(record)
        client.flush()
    assert result.outcome is PublishOutcome.PUBLISHED
    raw: list[object] = []
    scan_topic(env, f"{env.topic_prefix}.partner.uwv.outbox", raw.append)
    (message,) = raw
    value = plaintext(env, message)  # encrypted to the hub when record security is on
    assert value[0] == 0  # Confluent magic byte, then the registry's schema id
    assert int.from_bytes(value[1:5], "big") > 0
    assert message.key == record.client_pseudonym.encode()  # type: ignore[attr-defined]
    ((_, decoded, headers),) = read_records(env, f"{env.topic_prefix}.partner.uwv.outbox")
    assert decoded == record
    assert headers["ce_id"] == record.event_id
    assert headers["ce_source"] == "uwv"
    assert headers["ce_type"] == "nl.rmt.hub.ClientProfile"
    assert headers["content-type"] == "application/avro"


def test_the_same_record_is_published_once_even_by_a_new_client(env: HubSettings) -> None:
    records = [profile(n) for n in range(5)]
    with PartnerClient(env, "uwv") as first:
        assert all(first.publish(r).published for r in records)
        assert not first.publish(records[0]).published  # same client remembers
        first.flush()
    with PartnerClient(env, "uwv") as second:  # a restart: it reads the outbox back
        outcomes = [second.publish(r).outcome for r in records]
        second.flush()
    assert outcomes == [PublishOutcome.DUPLICATE] * 5
    assert len(read_records(env, f"{env.topic_prefix}.partner.uwv.outbox")) == 5


def test_a_partner_publishes_only_as_itself_and_only_outbox_types(env: HubSettings) -> None:
    with PartnerClient(env, "sbb") as client:
        with pytest.raises(ForeignRecordError, match="uwv"):
            client.publish(profile(1, source="uwv"))
        consent = example("ConsentChange").model_copy(update={"source_partner": PartnerId("sbb")})
        with pytest.raises(NotPublishableError):
            client.publish(consent)  # type: ignore[arg-type]
    with pytest.raises(UnknownPartnerError, match="nobody"):
        PartnerClient(env, "nobody")


def test_event_ids_are_deterministic_and_content_sensitive() -> None:
    one, same = profile(1), profile(1)
    assert event_id_for(one, "uwv") == event_id_for(same, "uwv")
    assert event_id_for(one, "uwv") != event_id_for(one, "sbb")
    changed = one.model_copy(update={"family_name": "de Vries"})
    assert event_id_for(changed, "uwv") != event_id_for(one, "uwv")
    # the event id itself is not part of what is hashed
    assert event_id_for(one.model_copy(update={"event_id": "x"}), "uwv") == one.event_id


def test_pseudonyms_are_keyed_stable_and_need_a_bsn() -> None:
    a, b = Pseudonymiser(b"key-a"), Pseudonymiser(b"key-b")
    assert a("123456782") == a(" 1234.56.782 ") == a("123456782")
    assert a("123456782") != b("123456782")
    assert a("123456782").startswith("psn-")
    assert len(a("123456782")) == 4 + 32
    assert a("10000008") == a("010000008")  # an 8-digit BSN lost its leading zero
    with pytest.raises(ValueError, match="not a valid BSN"):
        a("12-34")
    with pytest.raises(ValueError, match="not a valid BSN"):
        a("123456789")  # fails the eleven-test


def test_subscribe_reads_the_inbox_and_resumes_after_commits(env: HubSettings) -> None:
    records = [profile(n, source="uwv") for n in range(6)]
    fill_inbox(env, "gemeente-amsterdam", records)
    with PartnerClient(env, "gemeente-amsterdam", group_id=f"{env.topic_prefix}.t-inbox") as client:
        seen = []
        for message in client.subscribe(idle_timeout_s=2):
            assert message.ok
            seen.append(message.record)
            if len(seen) == 3:
                client.commit(message)
                break
    with PartnerClient(env, "gemeente-amsterdam", group_id=f"{env.topic_prefix}.t-inbox") as again:
        rest = [m.record for m in again.subscribe(idle_timeout_s=2)]
    assert len(seen) + len(rest) >= 6
    assert {r.event_id for r in seen + rest} == {r.event_id for r in records}  # type: ignore[union-attr]
