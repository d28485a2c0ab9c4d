"""The subject access report proves itself, on the real broker with a real router worker.

The consent service reads the router's audit topic with the hub's public keys: each
disclosure in the report is an entry the hub signed in an unbroken hash chain, and the
report says so. A record a plain producer forged onto the topic is flagged and never
reported as a disclosure; a copy of the trail with an entry removed or altered is
reported as a broken chain.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest
from kafka.admin import NewTopic

from consent.disclosures import DisclosureIngester, disclosure_decoder_for, hub_directory
from consent.report import AccessReport, AuditStatus, build_access_report, render_html
from consent.store import open_store
from hub.ids import ClientPseudonym, EventId
from hub.kafka import admin_client, create_topics
from hub.router.validation import partition_of
from hub.serde.canonical import cloud_event_headers
from schemas.models import DisclosureEvent
from schemas.vocabulary import DataCategory, Purpose
from tests.consent.test_store import service_on
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, Received
from tests.router.helpers.workers import fresh_worker

pytestmark = pytest.mark.integration

GEMEENTE = "gemeente-amsterdam"


def _consented(hub: Hub) -> str:
    who = records.subject()
    hub.grant(
        who,
        to=[GEMEENTE],
        purposes=[Purpose.ARRANGEMENT],
        categories=[DataCategory.IDENTITY, DataCategory.LABOUR_MARKET_PROFILE],
    )
    return who


def _audited(hub: Hub, who: str, count: int) -> list[Received]:
    """Publish ``count`` profiles of ``who``; the whole audit topic once they are audited."""
    published = [records.profile(who) for _ in range(count)]
    for record in published:
        hub.publish(record)
    wanted = {r.event_id for r in published}
    return hub.wait_for(
        hub.audit,
        lambda rs: wanted <= {str(getattr(a.record, "source_event_id", "")) for a in rs},
        what="the audit entries",
    )


def _report(hub: Hub, tmp: Path, topic: str, who: str, *, until: int) -> AccessReport:
    """A consent service of its own reads ``topic`` up to ``until`` records (disclosures
    and rejects), and reports on ``who``."""
    store = open_store(f"sqlite:///{tmp / f'consent-{uuid.uuid4().hex[:6]}.db'}")
    store.migrate()
    ingester = DisclosureIngester(
        store,
        hub.settings,
        topic,
        decoder=disclosure_decoder_for(hub.settings, topic),
        directory=hub_directory(hub.keys),
    )
    try:
        deadline = time.monotonic() + 30
        while ingester.ingested + ingester.rejected + ingester.undecodable < until:
            assert time.monotonic() < deadline, "the ingester did not read the whole trail"
            ingester.poll_once()
        return build_access_report(service_on(store), ClientPseudonym(who))
    finally:
        ingester.stop()
        store.close()


def _forged(hub: Hub, who: str, genuine: Received) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """Two disclosures to SBB about ``who`` by a producer without keys: one plain, one
    with the chain and signature headers of a genuine entry copied onto it."""
    topic = hub.catalogue.disclosures.name
    assert isinstance(genuine.record, DisclosureEvent)
    out = []
    for copy_chain in (False, True):
        event = genuine.record.model_copy(
            update={"event_id": EventId(str(uuid.uuid4())), "recipient": "sbb"}
        )
        headers = list(cloud_event_headers(event))
        if copy_chain:
            headers += [(k, v) for k, v in genuine.headers.items() if k.startswith("rmt-audit-")]
        out.append((hub.codec.encode(event, topic), headers))
    return out


def _plant(hub: Hub, who: str, forged: Iterable[tuple[bytes, list[tuple[str, bytes]]]]) -> None:
    """Write ``forged`` records about ``who`` onto the audit topic, on ``who``'s partition."""
    key = who.encode()
    for value, headers in forged:
        hub.publish_raw(
            hub.catalogue.disclosures.name,
            key=key,
            value=value,
            headers=headers,
            partition=partition_of(key, hub.settings.topic_partitions),
        )


def test_regression_a_forged_audit_record_was_reported_as_a_disclosure(
    hub: Hub, tmp_path: Path
) -> None:
    """The report trusted the audit topic: a disclosure written there by anyone able to
    produce to it was reported as genuine. Now only hub-signed, chained entries are
    disclosures; a forgery is flagged (bad signature) and listed apart."""
    who = _consented(hub)
    audit = _audited(hub, who, 2)
    topic = hub.catalogue.disclosures.name
    clean = _report(hub, tmp_path, topic, who, until=len(audit))
    assert clean.verification.status is AuditStatus.VERIFIED, clean.verification.summary
    assert len(clean.disclosures) == 2
    assert all(d.verified for d in clean.disclosures)
    assert clean.verification.summary.startswith("verified: each of the 2 disclosures")
    assert "Audit trail: <strong>verified" in render_html(clean, "en")

    mine = [a for a in audit if a.key == who.encode()]
    _plant(hub, who, _forged(hub, who, mine[-1]))
    after = _audited(hub, who, 1)  # the router's chain goes on past the forgeries
    flagged = _report(hub, tmp_path, topic, who, until=len(after))
    check = flagged.verification
    assert check.status is AuditStatus.BAD_SIGNATURE, check.summary
    assert {d.recipient for d in flagged.disclosures} == {GEMEENTE}  # never SBB
    assert len(flagged.disclosures) == 3
    assert all(d.verified for d in flagged.disclosures)
    assert [r.claimed_recipient for r in check.rejected] == ["sbb", "sbb"]
    assert {r.check for r in check.rejected} == {"unchained", "changed"}
    assert not check.breaks  # the forgeries are skipped, the chain is whole
    page = render_html(flagged, "en")
    assert 'role="alert"' in page
    assert "Records that are not the hub's (not disclosures)" in page


def _copy(hub: Hub, audit: list[Received], change: dict[tuple[int, int], bytes | None]) -> str:
    """A copy of the audit trail, each entry at ``change``'s (partition, offset) replaced
    by that value, or left out when it is None."""
    copy = f"{hub.settings.topic_prefix}.audit-copy-{uuid.uuid4().hex[:6]}"
    admin = admin_client(hub.settings)
    try:
        create_topics(admin, [NewTopic(copy, hub.settings.topic_partitions, 1)])
    finally:
        admin.close()
    for entry in audit:
        value = change.get((entry.partition, entry.offset), entry.raw)
        if (entry.partition, entry.offset) in change and value is None:
            continue
        hub.publish_raw(
            copy,
            key=entry.key,
            value=value,
            headers=list(entry.headers.items()),
            partition=entry.partition,
        )
    return copy


def test_a_trail_with_a_removed_or_altered_entry_is_reported_as_a_broken_chain(
    hub: Hub, tmp_path: Path
) -> None:
    who = _consented(hub)
    audit = _audited(hub, who, 3)
    mine = [a for a in audit if a.key == who.encode()]
    victim = mine[0]  # later entries of the partition follow it
    assert victim.raw is not None
    at = sorted(e.offset for e in audit if e.partition == victim.partition).index(victim.offset)

    removed = _copy(hub, audit, {(victim.partition, victim.offset): None})
    report = _report(hub, tmp_path, removed, who, until=len(audit) - 1)
    check = report.verification
    assert check.status is AuditStatus.BROKEN_CHAIN, check.summary
    assert check.summary.startswith(
        f"broken chain at entry {at} of {removed} partition {victim.partition} (removed:"
    )
    assert len(report.disclosures) == 2

    altered_value = victim.raw.replace(GEMEENTE.encode(), b"gemeente-rotterdam")
    assert altered_value != victim.raw
    altered = _copy(hub, audit, {(victim.partition, victim.offset): altered_value})
    report = _report(hub, tmp_path, altered, who, until=len(audit))
    check = report.verification
    assert check.status is AuditStatus.BROKEN_CHAIN, check.summary
    assert f"broken chain at entry {at + 1} of {altered}" in check.summary
    assert [r.check for r in check.rejected] == ["changed"]
    assert check.rejected[0].claimed_recipient == "gemeente-rotterdam"
    assert "gemeente-rotterdam" not in {d.recipient for d in report.disclosures}


def test_regression_a_forged_audit_record_before_a_restart_broke_the_chain_for_good(
    hub: Hub, tmp_path: Path
) -> None:
    """A router loading a partition resumed its audit chain from the last record on the
    topic, whoever wrote it: a record forged there just before a restart left the trail
    "broken" from then on. Now the chain resumes after the hub's last entry."""
    who = _consented(hub)
    audit = _audited(hub, who, 1)
    mine = [a for a in audit if a.key == who.encode()]
    topic = hub.catalogue.disclosures.name
    _plant(hub, who, reversed(_forged(hub, who, mine[-1])))  # an unchained one last
    fresh_worker(hub, "after-forgery")
    after = _audited(hub, who, 1)
    report = _report(hub, tmp_path, topic, who, until=len(after))
    check = report.verification
    assert not check.breaks, check.summary
    assert check.status is AuditStatus.BAD_SIGNATURE, check.summary  # the forgeries, flagged
    assert [d.recipient for d in report.disclosures] == [GEMEENTE, GEMEENTE]
