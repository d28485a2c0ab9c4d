"""Outbound delivery over the real broker: webhook with retries, file drop, restarts."""

from __future__ import annotations

import csv
import json
import threading
from collections import defaultdict
from pathlib import Path

import pytest
from kafka import TopicPartition

from connectors.delivery import (
    Deliverer,
    DeliveryLedger,
    FileDrop,
    WebhookSink,
    deliver,
    delivery_group,
    ledger_path,
)
from hub.config import HubSettings
from hub.kafka import consumer, producer
from hub.sdk import PartnerClient
from schemas.models import ClientProfile, DeadLetter, Envelope
from tests.connectors.helpers import as_hub, fill_inbox, flaky_webhook, outcome, profile
from tests.helpers.connectors import read_records

pytestmark = pytest.mark.integration

PARTNER = "gemeente-amsterdam"


def _stream(subjects: int, per_subject: int) -> list[Envelope]:
    """Records of several subjects, interleaved; each subject's in a known order."""
    records: list[Envelope] = []
    for n in range(per_subject):
        for s in range(subjects):
            subject = f"psn-subject-{s}"
            records.append(
                profile(100 * s + n, subject=subject)
                if n % 2 == 0
                else outcome(100 * s + n, subject)
            )
    return records


def _order_per_subject(records: list[Envelope]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for record in records:
        order[record.client_pseudonym].append(record.event_id)  # type: ignore[attr-defined]
    return dict(order)


def test_webhook_gets_every_record_once_in_order_despite_failures_and_a_restart(
    env: HubSettings,
) -> None:
    records = _stream(subjects=3, per_subject=4)
    fill_inbox(env, PARTNER, records)
    with flaky_webhook(fail_first=2) as (url, received):
        # first run: stops (as if killed) after 5 records were accepted
        stop = threading.Event()
        sink = WebhookSink(url, max_attempts=5, backoff_s=0.01, stop=stop)
        client = PartnerClient(env, PARTNER, group_id=delivery_group(env, PARTNER, sink))
        with DeliveryLedger(ledger_path(env, PARTNER, sink)) as ledger:
            deliverer = Deliverer(client, sink, ledger, stop=stop)
            while len(received.accepted) < 5:
                deliverer.run_once()
            stop.set()
            deliverer.close()
        client.close()
        # second run: resumes from the committed offsets and the ledger
        sink = WebhookSink(url, max_attempts=5, backoff_s=0.01)
        stats = deliver(env, PARTNER, sink, idle_exit_s=1.5)

    ids = [event_id for event_id, _, _ in received.accepted]
    assert sorted(ids) == sorted(r.event_id for r in records)  # all, each exactly once
    assert stats.dead_lettered == 0
    got: dict[str, list[str]] = defaultdict(list)
    for event_id, subject, body in received.accepted:
        assert body["event_id"] == event_id
        got[subject].append(event_id)
    assert dict(got) == _order_per_subject(records)
    assert all(tries == 3 for tries in received.attempts.values())  # 2 refusals, then taken


def test_webhook_dead_letters_a_record_after_n_failures_and_moves_on(env: HubSettings) -> None:
    records = [profile(1), profile(2)]
    fill_inbox(env, PARTNER, records)
    with flaky_webhook(fail_first=99) as (url, received):
        sink = WebhookSink(url, max_attempts=3, backoff_s=0.01)
        stats = deliver(env, PARTNER, sink, idle_exit_s=1.0)
        assert stats.dead_lettered == 2
        assert sum(received.attempts.values()) == 6  # 3 attempts each, exponential backoff
    # the offsets were committed past them: a restart does not retry them
    reader = consumer(env, group_id=delivery_group(env, PARTNER, sink))
    try:
        inbox = f"{env.topic_prefix}.partner.{PARTNER}.inbox"
        committed = [reader.committed(TopicPartition(inbox, p)) or 0 for p in range(4)]
    finally:
        reader.close()
    assert sum(committed) == 2
    letters = [r for _, r, _ in read_records(env, f"{env.topic_prefix}.hub.deadletter")]
    assert len(letters) == 2
    for letter in letters:
        assert isinstance(letter, DeadLetter)
        assert letter.reason.value == "OTHER"
        assert "HTTP 503 after 3 attempts" in letter.message
        assert letter.source_topic == f"{env.topic_prefix}.partner.{PARTNER}.inbox"
        assert letter.event_id in {r.event_id for r in records}


def _jsonl_events(directory: Path) -> list[dict[str, object]]:
    events = []
    for file in sorted(directory.glob("*.jsonl")):
        events += [json.loads(line) for line in file.read_text("utf-8").splitlines()]
    return events


def test_file_drop_rotates_atomically_and_resumes_without_duplicates(
    env: HubSettings, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    first = [profile(n) for n in range(25)]
    fill_inbox(env, PARTNER, first)
    stats = deliver(
        env, PARTNER, FileDrop(drop, partner_id=PARTNER, max_records=10), idle_exit_s=1.0
    )
    assert stats.delivered == 25
    assert sorted(len(p.read_text().splitlines()) for p in drop.glob("*.jsonl")) == [5, 10, 10]
    assert not list(drop.glob(".*"))  # no part files left behind

    second = [profile(n) for n in range(25, 32)]
    fill_inbox(env, PARTNER, [*first[:3], *second])  # the hub re-sends three old ones
    again = deliver(
        env, PARTNER, FileDrop(drop, partner_id=PARTNER, max_records=10), idle_exit_s=1.0
    )
    assert (again.delivered, again.duplicates) == (7, 3)

    events = _jsonl_events(drop)
    assert sorted(e["id"] for e in events) == sorted(r.event_id for r in first + second)
    event = next(e for e in events if e["id"] == first[0].event_id)
    assert event["specversion"] == "1.0"
    assert event["type"] == "nl.rmt.hub.ClientProfile"
    assert event["subject"] == first[0].client_pseudonym
    assert ClientProfile.model_validate(event["data"]) == first[0]


def test_file_drop_in_csv_writes_one_file_per_record_type(env: HubSettings, tmp_path: Path) -> None:
    records: list[Envelope] = [profile(1), outcome(2, "psn-x"), profile(3)]
    fill_inbox(env, PARTNER, records)
    drop = tmp_path / "csv"
    stats = deliver(env, PARTNER, FileDrop(drop, partner_id=PARTNER, fmt="csv"), idle_exit_s=1.0)
    assert stats.delivered == 3
    (profiles,) = drop.glob(f"{PARTNER}-ClientProfile-*.csv")
    (outcomes,) = drop.glob(f"{PARTNER}-PlacementOutcome-*.csv")
    rows = list(csv.DictReader(profiles.open(encoding="utf-8"), delimiter=";"))
    assert {r["event_id"] for r in rows} == {records[0].event_id, records[2].event_id}
    assert rows[0]["region"] == "GROOT_AMSTERDAM"
    assert "contact.city" in rows[0]
    assert len(list(csv.DictReader(outcomes.open(encoding="utf-8"), delimiter=";"))) == 1


def test_tombstones_are_skipped_and_undecodable_records_dead_lettered(
    env: HubSettings, tmp_path: Path
) -> None:
    inbox = f"{env.topic_prefix}.partner.{PARTNER}.inbox"
    subject = "psn-subject-x"
    fill_inbox(env, PARTNER, [profile(1, subject=subject)])
    raw = producer(env)
    try:
        for value in (None, b'{"not": "avro"}'):  # a tombstone (erasure), then no Avro
            sealed, headers = as_hub(env, PARTNER, inbox, subject.encode(), value)
            raw.send(inbox, key=subject.encode(), value=sealed, headers=headers)
        raw.flush()
    finally:
        raw.close()
    fill_inbox(env, PARTNER, [profile(2, subject=subject)])
    stats = deliver(env, PARTNER, FileDrop(tmp_path / "d", partner_id=PARTNER), idle_exit_s=1.0)
    assert (stats.delivered, stats.tombstones, stats.dead_lettered) == (2, 1, 1)
    (letter,) = [r for _, r, _ in read_records(env, f"{env.topic_prefix}.hub.deadletter")]
    assert isinstance(letter, DeadLetter)
    assert letter.reason.value == "DECODE_ERROR"
    assert "magic byte" in letter.message
    assert letter.original_value == b'{"not": "avro"}'


def test_file_drop_recovery_settles_a_crash_around_the_rename(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    with DeliveryLedger(tmp_path / "ledger.sqlite3") as ledger:
        # crash after the write-ahead, before the rename: the part file is still there
        ledger.begin_file("a.jsonl", ["e1", "e2"])
        (drop / ".a.jsonl.part").write_text("{}\n")
        # crash after the rename, before it was marked done
        ledger.begin_file("b.jsonl", ["e3"])
        (drop / "b.jsonl").write_text("{}\n")
        (drop / ".stray.jsonl.part").write_text("")
        FileDrop(drop, partner_id=PARTNER).recover(ledger)
        assert not ledger.seen("e1")
        assert not ledger.seen("e2")  # will be read and written again
        assert ledger.seen("e3")  # was delivered: never again
        assert ledger.pending_files() == []
        assert sorted(p.name for p in drop.iterdir()) == ["b.jsonl"]
