"""Benchmark of the consent decision function, in process, over a million subjects.

    python bench/consent.py [--subjects 1000000] [--decisions 1000000] [--seed 7]

Builds the in-memory consent table a router would hold (subject -> compiled consents,
1-3 per subject: mostly given, some withdrawn, expired or not yet valid, over a mix of
recipients, purposes and categories), measures its memory (tracemalloc: Python
allocations of the table; RSS: the process), then times ``consent.decision.decide`` on
random questions (subject, partner, purpose, 1-4 categories) and prints decisions/s.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consent.decision import CompiledConsent, decide
from consent.model import ConsentStatus, LegalBasis, Recipient
from consent.policy import load_policy
from hub.ids import ConsentId, PartnerId
from schemas.regions import Region
from schemas.vocabulary import DataCategory, PartnerKind, Purpose

__all__ = ["build_table", "main"]

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PARTNERS = (
    ("uwv", PartnerKind.UWV, None),
    ("sbb", PartnerKind.SBB, None),
    ("sp-werkgevers", PartnerKind.SOCIAL_PARTNER, None),
    ("gemeente-amsterdam", PartnerKind.GEMEENTE, Region.GROOT_AMSTERDAM),
    ("gemeente-rotterdam", PartnerKind.GEMEENTE, Region.RIJNMOND),
    ("mbo-amsterdam", PartnerKind.EDUCATION, Region.GROOT_AMSTERDAM),
)
C = DataCategory
RECIPIENT_SETS = (
    (Recipient(partner_id=PartnerId("uwv")),),
    (Recipient(partner_id=PartnerId("uwv")), Recipient(partner_kind=PartnerKind.SBB)),
    (Recipient(partner_kind=PartnerKind.GEMEENTE, region=Region.GROOT_AMSTERDAM),),
    (Recipient(partner_kind=PartnerKind.GEMEENTE), Recipient(partner_kind=PartnerKind.UWV)),
    (Recipient(partner_kind=PartnerKind.SOCIAL_PARTNER), Recipient(partner_id=PartnerId("sbb"))),
    (Recipient(partner_kind=PartnerKind.EDUCATION),),
)
PURPOSE_SETS = tuple(
    frozenset(p)
    for p in (
        {Purpose.INTAKE_DIAGNOSIS, Purpose.ARRANGEMENT},
        {Purpose.MATCHING_PLACEMENT},
        {Purpose.SCHOOLING, Purpose.ARRANGEMENT},
        {Purpose.WARM_HANDOVER},
        {Purpose.ARRANGEMENT, Purpose.MATCHING_PLACEMENT, Purpose.RESPONSIBILITY_TRANSFER},
    )
)
CATEGORY_SETS = tuple(
    (frozenset(c), basis)
    for c, basis in (
        ({C.CONTACT, C.LABOUR_MARKET_PROFILE, C.EDUCATION}, LegalBasis.CONSENT),
        ({C.IDENTITY, C.CONTACT, C.RESIDENCE, C.INTAKE, C.ARRANGEMENT}, LegalBasis.CONSENT),
        ({C.CONTACT, C.HEALTH, C.BENEFIT_STATUS}, LegalBasis.EXPLICIT_CONSENT),
        ({C.DEBTS, C.CONTACT, C.RESIDENCE}, LegalBasis.CONSENT),
        ({C.ARRANGEMENT, C.OUTCOME, C.EDUCATION}, LegalBasis.CONSENT),
    )
)
ASKED = tuple(c for c in DataCategory if c not in (C.BUSINESS, C.STATISTICAL))


def _consent(rng: random.Random) -> CompiledConsent:
    categories, basis = rng.choice(CATEGORY_SETS)
    start = NOW - timedelta(days=rng.randint(0, 400))
    roll = rng.random()
    until: datetime | None = start + timedelta(days=rng.randint(30, 730))
    withdrawn: datetime | None = None
    if roll < 0.10:
        withdrawn = start + timedelta(days=rng.randint(1, 30))
    elif roll < 0.15:
        until = None
    elif roll < 0.18:
        start = NOW + timedelta(days=rng.randint(1, 30))  # not yet valid
        until = start + timedelta(days=365)
    return CompiledConsent(
        id=ConsentId(str(uuid.UUID(int=rng.getrandbits(128), version=4))),
        status=ConsentStatus.WITHDRAWN if withdrawn else ConsentStatus.GIVEN,
        valid_from=start,
        valid_until=until,
        withdrawn_at=withdrawn,
        recipients=rng.choice(RECIPIENT_SETS),
        purposes=rng.choice(PURPOSE_SETS),
        categories=categories,
        legal_basis=basis,
    )


def build_table(subjects: int, seed: int) -> dict[str, tuple[CompiledConsent, ...]]:
    """subject pseudonym -> its compiled consents (1-3 each)."""
    rng = random.Random(seed)
    table: dict[str, tuple[CompiledConsent, ...]] = {}
    for n in range(subjects):
        count = 1 if rng.random() < 0.6 else rng.choice((2, 3))
        table[f"client-{n:08d}"] = tuple(_consent(rng) for _ in range(count))
    return table


def _rss_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _question(
    rng: random.Random, table: dict[str, tuple[CompiledConsent, ...]], keys: list[str]
) -> tuple[str, tuple[str, PartnerKind, Region | None], Purpose, tuple[DataCategory, ...]]:
    """Half of the questions follow one of the subject's consents, half are random."""
    subject = rng.choice(keys)
    if rng.random() < 0.5:
        consent = rng.choice(table[subject])
        fitting = [p for p in PARTNERS if any(r.matches(*p) for r in consent.recipients)]
        if fitting:
            categories = sorted(consent.categories)
            asked = tuple(rng.sample(categories, rng.randint(1, min(3, len(categories)))))
            purpose = rng.choice(sorted(consent.purposes))
            return subject, rng.choice(fitting), purpose, (C.PSEUDONYM, *asked)
    return (
        subject,
        rng.choice(PARTNERS),
        rng.choice(tuple(Purpose)),
        tuple(rng.sample(ASKED, rng.randint(1, 4))),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="Also count the table's Python allocations."
    )
    args = parser.parse_args(argv)

    policy = load_policy()
    gc.collect()
    rss_before = _rss_mib()
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    table = build_table(args.subjects, args.seed)
    build_s = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[0] if args.tracemalloc else 0
    tracemalloc.stop()
    gc.collect()
    rss_table = _rss_mib()
    consents = sum(len(v) for v in table.values())

    rng = random.Random(args.seed + 1)
    keys = list(table)
    questions = [_question(rng, table, keys) for _ in range(args.decisions)]
    allowed = 0
    gc.disable()
    started = time.perf_counter()
    for subject, (partner, kind, region), purpose, categories in questions:
        decision = decide(
            table[subject],
            partner=partner,
            partner_kind=kind,
            region=region,
            purpose=purpose,
            categories=categories,
            now=NOW,
            policy=policy,
        )
        allowed += decision.allowed
    decide_s = time.perf_counter() - started
    gc.enable()

    rate = args.decisions / decide_s
    table_mib = rss_table - rss_before
    print(f"subjects              {args.subjects:>12,}")
    print(f"consents              {consents:>12,}  ({consents / args.subjects:.2f} per subject)")
    print(f"table built in        {build_s:>12.1f} s")
    print(
        f"table memory (RSS)    {table_mib:>12.1f} MiB  "
        f"({table_mib * 2**20 / args.subjects:.0f} B/subject)"
    )
    if args.tracemalloc:
        print(f"table memory (traced) {traced / 2**20:>12.1f} MiB  (Python allocations)")
    print(f"process RSS           {_rss_mib():>12.1f} MiB  (after the questions were drawn)")
    print(f"decisions             {args.decisions:>12,}  ({allowed / args.decisions:.1%} allowed)")
    print(f"decision time         {decide_s:>12.2f} s")
    print(f"decisions/s           {rate:>12,.0f}  ({1e6 / rate:.2f} us each, one core)")


if __name__ == "__main__":
    main()
