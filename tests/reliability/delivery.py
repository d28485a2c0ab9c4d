"""A stream of records with what must come of each, and the checks by event id that
every delivery, audit entry, rejection notice and dead letter is there exactly once.

Shared by the fault tests of the router (test_router_faults.py) and of the broker
(test_broker_failover.py): :func:`make_stream` builds the records (about subjects of
three consent groups, with invalid records and second copies sprinkled in),
:func:`add_arrangements` adds arrangements whose validity depends on earlier state, and
the ``check_*`` functions list what differs from the :class:`Stream`'s expectations.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from hub.ids import PartnerId
from hub.router.ids import delivery_id
from hub.security.audit_chain import verify_chain
from hub.security.audit_log import read_audit_entries
from schemas.models import (
    DeadLetter,
    DisclosureEvent,
    PartyRef,
    PersonRecord,
    RejectionNotice,
)
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, Publication
from topics import load_partners

__all__ = [
    "CATEGORIES",
    "GROUPS",
    "PURPOSES",
    "Stream",
    "add_arrangements",
    "check_audit",
    "check_audit_chain",
    "check_dead_letters",
    "check_inboxes",
    "chunks",
    "counted",
    "grant_groups",
    "make_stream",
    "partner_ids",
]

PURPOSES = (Purpose.ARRANGEMENT, Purpose.MATCHING_PLACEMENT, Purpose.WARM_HANDOVER)
CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.ARRANGEMENT,
    DataCategory.OUTCOME,
)
GROUPS: dict[str, tuple[str, ...]] = {
    "one": ("gemeente-utrecht",),
    "two": ("gemeente-amsterdam", "sbb"),  # the second by kind: every SBB partner
    "none": (),
}
"""The recipients each kind of subject consented to."""
SBB = PartyRef(partner_id=PartnerId("sbb"), kind=PartnerKind.SBB)
AMSTERDAM = records.GEMEENTE


@dataclass
class Stream:
    """What is published, and what must come of it."""

    items: list[Publication] = field(default_factory=list)
    entitled: dict[str, set[str]] = field(default_factory=dict)
    """Valid record's event id -> the partners that must receive it."""
    invalid: dict[str, str] = field(default_factory=dict)
    """Invalid record's event id -> its publisher (who gets the rejection notice)."""
    replayed: dict[str, str] = field(default_factory=dict)
    """Valid record published a second time (an at-least-once publisher retrying) ->
    its publisher: the copy is a replay (record security on), dead-lettered and noticed."""

    def deliveries(self, partner: str) -> Counter[str]:
        """The ce ids ``partner``'s inbox must hold, once each."""
        return Counter(
            {delivery_id(e, partner): 1 for e, whom in self.entitled.items() if partner in whom}
        )


def make_stream(rng: random.Random, size: int, subjects: Mapping[str, Sequence[str]]) -> Stream:
    """``size`` records: 70% profiles from UWV, 15% outcomes from Amsterdam, 15% referrals
    from SBB, about subjects of every group; one in 400 invalid (at least 6), one in 400
    a second copy of a valid record published before it (at most; at least 6 tries)."""
    stream = Stream()
    special = rng.sample(range(1, size), 2 * max(6, size // 400))
    invalid_at, again_at = set(special[::2]), set(special[1::2])
    valid: list[PersonRecord] = []
    kinds = ("bsn", "key", "garbage")
    for index in range(size):
        group = rng.choices(("one", "two", "none"), weights=(40, 35, 25))[0]
        who = rng.choice(subjects[group])
        roll = rng.random()
        if roll < 0.70:
            record: PersonRecord = records.profile(who)
        elif roll < 0.85:
            record = records.outcome(who)
        else:
            record = records.referral(who, source_partner="sbb", from_party=SBB, to_party=AMSTERDAM)
        publisher = str(record.source_partner)
        if index in again_at and valid:
            first = rng.choice(valid)
            copied = str(first.event_id)
            if copied not in stream.replayed:
                stream.items.append(Publication(first))
                stream.replayed[copied] = str(first.source_partner)
                continue
        if index in invalid_at:
            kind = kinds[len(stream.invalid) % len(kinds)]
            if kind == "bsn":  # fails the eleven-test
                record = records.profile(who, bsn="123456789")
                publisher = "uwv"
                item = Publication(record)
            elif kind == "key":  # keyed by someone else: not its subject's partition
                item = Publication(record, key=records.subject().encode())
            else:  # not a record at all (encrypted and signed all the same)
                item = Publication(record, value=b"\x00\x00\x00\x00\x01not avro")
            stream.invalid[str(record.event_id)] = publisher
        else:
            item = Publication(record)
            stream.entitled[str(record.event_id)] = set(GROUPS[group]) - {publisher}
            valid.append(record)
        stream.items.append(item)
    return stream


def add_arrangements(
    rng: random.Random, stream: Stream, subjects: Mapping[str, Sequence[str]], count: int
) -> None:
    """``count`` subjects get, in this order at random places of the stream, a profile, an
    intake and three arrangements from UWV, each with EUR 425 of tailored budget: the
    third breaks the EUR 1,000 cap, which only the state of the first two tells (so it
    must be refused however the kills fell between them)."""
    consented = [(g, who) for g in ("one", "two") for who in subjects[g]]
    for group, who in rng.sample(consented, count):
        sequence: list[tuple[PersonRecord, bool]] = [
            (records.profile(who), True),
            (records.intake(who), False),  # valid; the consents do not cover intake data
            (records.arrangement(who), True),
            (records.arrangement(who), True),
            (records.arrangement(who), False),
        ]
        places = sorted(rng.sample(range(len(stream.items) + 1), len(sequence)), reverse=True)
        for (record, _), place in zip(reversed(sequence), places, strict=True):
            stream.items.insert(place, Publication(record))
        for index, (record, delivered) in enumerate(sequence):
            if index == len(sequence) - 1:
                stream.invalid[str(record.event_id)] = "uwv"
            else:
                whom = set(GROUPS[group]) - {"uwv"} if delivered else set()
                stream.entitled[str(record.event_id)] = whom


def chunks(items: list[Publication], size: int) -> Iterator[list[Publication]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def counted(found: Counter[str], wanted: Counter[str]) -> str:
    """What differs between two id counts, readably (not 50,000 ids)."""
    missing = sorted(set(wanted) - set(found))
    extra = sorted(set(found) - set(wanted))
    twice = sorted(i for i, n in found.items() if n > 1)
    return (
        f"{len(missing)} missing (e.g. {missing[:3]}), {len(extra)} unexpected (e.g. "
        f"{extra[:3]}), {len(twice)} more than once (e.g. {twice[:3]})"
    )


def partner_ids(hub: Hub) -> list[str]:
    return [p.id for p in load_partners(hub.settings.partners_file)]


def check_inboxes(hub: Hub, stream: Stream, read_s: float) -> list[str]:
    """Each partner's inbox holds exactly its deliveries, once each, and exactly one
    rejection notice per invalid record it published."""
    problems: list[str] = []
    rejected: Counter[str] = Counter()
    for partner in partner_ids(hub):
        inbox = hub.inbox(partner, timeout_s=read_s)
        delivered = Counter(r.ce_id for r in inbox if not isinstance(r.record, RejectionNotice))
        wanted = stream.deliveries(partner)
        if delivered != wanted:
            problems.append(f"inbox of {partner}: {counted(delivered, wanted)}")
        for r in inbox:
            if isinstance(r.record, RejectionNotice):
                rejected[f"{partner}:{r.record.rejected_event_id}"] += 1
            elif isinstance(r.record, PersonRecord):
                source = str(r.record.event_id)
                if r.ce_id != delivery_id(source, partner) or source in stream.invalid:
                    problems.append(f"inbox of {partner}: {r.ce_id} is not a delivery of {source}")
    refused = stream.invalid | stream.replayed
    notices = Counter({f"{who}:{e}": 1 for e, who in refused.items()})
    if rejected != notices:
        problems.append(f"rejection notices: {counted(rejected, notices)}")
    return problems


def check_audit(hub: Hub, everyone: Counter[str], read_s: float) -> list[str]:
    """One disclosure event per delivery, describing it."""
    audit = [r.record for r in hub.audit(timeout_s=read_s)]
    events = [e for e in audit if isinstance(e, DisclosureEvent)]
    problems = [f"audit: {len(audit) - len(events)} records that are no disclosure"]
    problems = problems if len(events) != len(audit) else []
    audited = Counter(str(e.event_id) for e in events)
    if audited != everyone:
        problems.append(f"audit: {counted(audited, everyone)}")
    problems += [
        f"audit entry {e.event_id} does not describe its delivery"
        for e in events
        if e.event_id != delivery_id(str(e.source_event_id), e.recipient)
    ]
    return problems


def check_audit_chain(hub: Hub, read_s: float) -> list[str]:
    """Each partition's audit hash chain is whole and hub-signed, however the workers
    that extended it died (each successor resumes it after the last entry on the topic)."""
    entries = read_audit_entries(hub.settings, hub.catalogue.disclosures.name, timeout_s=read_s)
    report = verify_chain(entries, directory=hub.keys.directory(), require_signatures=True)
    return [f"audit chain: {found}" for found in report.breaks]


def check_dead_letters(hub: Hub, stream: Stream, read_s: float) -> list[str]:
    """Every invalid record and every second copy dead-lettered once (the copies as
    replays); nothing else."""
    letters = [r.record for r in hub.dead_letters(timeout_s=read_s)]
    found = [d for d in letters if isinstance(d, DeadLetter)]
    dead = Counter(str(d.event_id) for d in found)
    wanted = Counter(dict.fromkeys([*stream.invalid, *stream.replayed], 1))
    problems = [f"dead letters: {counted(dead, wanted)}"] if dead != wanted else []
    problems += [
        f"the copy of {d.event_id} was dead-lettered as {d.reason}, not as a replay"
        for d in found
        if str(d.event_id) in stream.replayed and d.reason is not DeadLetterReason.REPLAYED
    ]
    return problems


def grant_groups(hub: Hub, subjects: Mapping[str, Sequence[str]]) -> None:
    """Give each subject of a consenting group its group's consent (acknowledged)."""
    for group, whom in GROUPS.items():
        for who in subjects[group] if whom else ():
            hub.grant(
                who,
                to=[PartnerKind.SBB if p == "sbb" else p for p in whom],
                purposes=PURPOSES,
                categories=CATEGORIES,
            )
