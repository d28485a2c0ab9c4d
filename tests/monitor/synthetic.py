"""Synthetic partner input for the monitor tests and bench: persons, their records, files.

:func:`generate` makes, from a seed, the canonical records the partners would publish
about ``n`` people - profile (with BSN, name, date of birth, address), intake decision,
arrangement versions (draft, agreed, active, finished or cancelled) with regular and
additional services, referrals, outcomes, responsibility transfers - in time order.
:func:`write_inputs` / :func:`read_inputs` store them as one JSON-lines file per partner
(the "input files"). :class:`RouterStandIn` does what the router does for the monitor:
keep each person's :class:`MonitorSubject` and the previous version of each arrangement,
and call :func:`hub.monitor.derive.derive`. :func:`reference` computes the expected
figures straight from the input records, without derive or the aggregator.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from hub.ids import ClientPseudonym, EventId, PartnerId
from hub.monitor.derive import (
    DeriveContext,
    MonitorSubject,
    age_band,
    derive,
    subject_from_profile,
)
from hub.monitor.pseudonym import MonitorPseudonymiser
from schemas.codec import MODELS
from schemas.menu_card import BANENAFSPRAAK_ONLY, TAILORED_BUDGET_CAP_CENTS, Instrument
from schemas.models import (
    ArrangementService,
    CanonicalRecord,
    ClientProfile,
    Contact,
    IntakeDecision,
    Money,
    MonitorEvent,
    PartyRef,
    PersonalArrangement,
    PersonRecord,
    PlacementOutcome,
    Referral,
    ResponsibilityTransfer,
    WorkHistoryEntry,
    two_month_period,
)
from schemas.models.enums import (
    ArrangementStatus,
    OutcomeType,
    ServiceKind,
    ServicePackage,
    ServiceStatus,
    TransferReason,
)
from schemas.regions import Region, municipality_table
from schemas.vocabulary import (
    YOUNG_PERSON_AGE_LIMIT,
    BenefitStatus,
    EducationLevel,
    JobSeekerCategory,
    PartnerKind,
    Sector,
    age_on,
)

__all__ = [
    "PARTNER_KINDS",
    "Person",
    "RouterStandIn",
    "World",
    "generate",
    "read_inputs",
    "reference",
    "write_inputs",
]

PARTNER_KINDS: dict[str, PartnerKind] = {
    "uwv": PartnerKind.UWV,
    "gemeente": PartnerKind.GEMEENTE,
    "sp-werkgevers": PartnerKind.SOCIAL_PARTNER,
    "sbb": PartnerKind.SBB,
    "mbo": PartnerKind.EDUCATION,
}
_BUSY_REGIONS = (
    Region.GROOT_AMSTERDAM,
    Region.RIJNMOND,
    Region.MIDDEN_UTRECHT,
    Region.MIDDEN_BRABANT,
    Region.HAAGLANDEN,
    Region.WEST_BRABANT,
)
_GIVEN = [
    "Anouk",
    "Bram",
    "Daan",
    "Emma",
    "Fenna",
    "Gijs",
    "Hanna",
    "Iris",
    "Joost",
    "Karim",
    "Lotte",
    "Mohamed",
    "Noor",
    "Olaf",
    "Priya",
    "Quinten",
    "Rosa",
    "Sanne",
    "Thijs",
    "Yara",
]
_FAMILY = [
    "Jansen",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Dijkstra",
    "Verbeek",
    "Kuipers",
    "Yilmaz",
    "Bouzid",
    "Wijnands",
    "Oosterhuis",
    "Veldkamp",
    "Zwanenburg",
]
_INSTRUMENTS = [i for i in Instrument if i not in BANENAFSPRAAK_ONLY]


def _bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        check = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True)) % 11
        if check < 10 and any(digits):
            return "".join(map(str, digits)) + str(check)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class Person:
    """One synthetic person and the identifiers the privacy test looks for."""

    bsn: str
    client_pseudonym: str
    given_name: str
    family_name: str
    date_of_birth: date
    region: Region
    records: list[PersonRecord] = field(default_factory=list)


@dataclass
class World:
    people: list[Person]
    records: list[PersonRecord]  # all, in the order the hub would route them


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def event(self) -> EventId:
        return EventId(str(uuid.UUID(int=self._rng.getrandbits(128), version=4)))

    def token(self, prefix: str) -> str:
        return f"{prefix}-{self._rng.getrandbits(48):012x}"


def generate(n: int, seed: int = 7, *, start: date = date(2021, 1, 4)) -> World:
    """``n`` people with intakes over the first half of 2021 and their follow-up."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    table = municipality_table()
    by_region: dict[Region, list[str]] = defaultdict(list)
    for code, region in sorted(table.items()):
        by_region[region].append(code)
    regions = sorted(by_region, key=lambda r: r.value)
    people: list[Person] = []
    records: list[tuple[datetime, int, PersonRecord]] = []
    seen_bsn: set[str] = set()
    for index in range(n):
        bsn = _bsn(rng)
        while bsn in seen_bsn:
            bsn = _bsn(rng)
        seen_bsn.add(bsn)
        region = rng.choice(_BUSY_REGIONS) if rng.random() < 0.8 else rng.choice(regions)
        person = Person(
            bsn=bsn,
            client_pseudonym=f"psn-{rng.getrandbits(128):032x}",
            given_name=rng.choice(_GIVEN),
            family_name=rng.choice(_FAMILY),
            date_of_birth=date(1958, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45)),
            region=region,
        )
        for record in _story(rng, ids, person, rng.choice(by_region[region]), start):
            person.records.append(record)
            records.append((record.occurred_at, index, record))
        people.append(person)
    records.sort(key=lambda item: (item[0], item[1]))
    return World(people, [record for _, _, record in records])


def _party(kind: PartnerKind) -> PartyRef:
    partner = next(p for p, k in PARTNER_KINDS.items() if k is kind)
    return PartyRef(partner_id=PartnerId(partner), kind=kind)


def _story(  # noqa: PLR0912 - one life in the programme, step by step
    rng: random.Random, ids: _Ids, person: Person, municipality: str, start: date
) -> Iterator[PersonRecord]:
    intake_day = start + timedelta(days=rng.randrange(0, 178))
    young = age_on(person.date_of_birth, intake_day) < YOUNG_PERSON_AGE_LIMIT
    # a young person is under 27 (the router refuses the claim otherwise)
    category = rng.choice(
        [c for c in JobSeekerCategory if young or c is not JobSeekerCategory.YOUNG_PERSON]
    )
    owner = _party(category.first_responsible)
    sector = rng.choice(list(Sector))
    level = rng.choice(list(EducationLevel))
    banenafspraak = rng.random() < 0.08
    client = ClientPseudonym(person.client_pseudonym)
    common = {"client_pseudonym": client, "source_partner": owner.partner_id}
    yield ClientProfile(
        event_id=ids.event(),
        occurred_at=_at(intake_day - timedelta(days=rng.randrange(1, 6)), 9),
        bsn=person.bsn,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        contact=Contact(
            street="Dorpsstraat",
            house_number=str(rng.randrange(1, 300)),
            postal_code=f"{rng.randrange(1000, 9999)} AB",
            city="Ergens",
            phone=f"+31 6 {rng.randrange(10_000_000, 99_999_999)}",
            email=f"{person.given_name.lower()}.{person.family_name.lower()}@example.nl",
        ),
        municipality_code=municipality,
        region=person.region,
        job_seeker_category=category,
        sectors=[sector],
        work_history=[
            WorkHistoryEntry(
                job_title="Medewerker",
                sector=sector,
                start_date=date(2010, 1, 1),
                end_date=intake_day - timedelta(days=20),
            )
        ],
        education_level=level,
        starting_qualification=level.starting_qualification,
        # the banenafspraak people are Wajong with a reduced wage value, so every
        # instrument of their menu (wage dispensation too) passes the router's rules
        benefit_status=BenefitStatus.WAJONG if banenafspraak else BenefitStatus.WW,
        banenafspraak=banenafspraak,
        reduced_wage_value=banenafspraak,
        **common,
    )
    selected = rng.random() < 0.75
    yield IntakeDecision(
        event_id=ids.event(),
        occurred_at=_at(intake_day, 15),
        intake_id=ids.token("intake"),
        intake_date=intake_day,
        job_seeker_category=category,
        first_responsible=owner,
        selected=selected,
        banenafspraak_eligible=banenafspraak,
        reasons=[f"gesprek met {person.given_name} {person.family_name}"],
        **common,
    )
    if not selected:
        if rng.random() < 0.3:
            day = intake_day + timedelta(days=rng.randrange(20, 120))
            yield PlacementOutcome(
                event_id=ids.event(),
                occurred_at=_at(day, 16),
                outcome_id=ids.token("out"),
                outcome=OutcomeType.NO_PLACEMENT,
                started_on=day,
                **common,
            )
        return
    arrangement_id = ids.token("arr")
    menu = _INSTRUMENTS + (sorted(BANENAFSPRAAK_ONLY) if banenafspraak else [])
    tailored = False  # one tailored budget per person at most: its cap is per person
    services: list[ArrangementService] = []
    for number in range(rng.randrange(1, 4)):
        instrument = rng.choice(menu)
        if instrument is Instrument.TAILORED_BUDGET:
            if tailored:
                instrument = Instrument.CAREER_GUIDANCE
            tailored = True
        additional = rng.random() < 0.7
        cost = None
        co_financing = None
        if additional:
            cap = TAILORED_BUDGET_CAP_CENTS if instrument is Instrument.TAILORED_BUDGET else 400_000
            cost = Money(amount_cents=rng.randrange(10_000, cap + 1, 500))
            if rng.random() < 0.2:
                co_financing = Money(amount_cents=cost.amount_cents // 4)
        services.append(
            ArrangementService(
                service_id=f"s{number + 1}",
                kind=ServiceKind.ADDITIONAL if additional else ServiceKind.REGULAR,
                instrument=instrument,
                package=ServicePackage.III,
                description=f"traject voor {person.given_name}",
                provider="mbo",
                cost=cost,
                co_financing=co_financing,
                status=ServiceStatus.PLANNED,
            )
        )
    services.append(  # a regular service without an instrument: never counted
        ArrangementService(
            service_id="s0",
            kind=ServiceKind.REGULAR,
            description="begeleiding",
            provider=owner.partner_id,
            status=ServiceStatus.STARTED,
        )
    )

    def version(
        revision: int, day: date, status: ArrangementStatus, svc: list[ArrangementService]
    ) -> PersonalArrangement:
        return PersonalArrangement(
            event_id=ids.event(),
            occurred_at=_at(day, 11),
            arrangement_id=arrangement_id,
            revision=revision,
            composed_by=owner,
            region=person.region,
            status=status,
            agreed_with_client=status is not ArrangementStatus.DRAFT,
            services=svc,
            valid_from=day,
            **common,
        )

    day = intake_day + timedelta(days=rng.randrange(2, 10))
    revision = 1
    if rng.random() < 0.2:
        yield version(revision, day, ArrangementStatus.DRAFT, services)
        revision += 1
        day += timedelta(days=rng.randrange(1, 7))
    yield version(revision, day, ArrangementStatus.AGREED, services)
    if rng.random() < 0.3:
        yield Referral(
            event_id=ids.event(),
            occurred_at=_at(day + timedelta(days=2), 12),
            referral_id=ids.token("ref"),
            arrangement_id=arrangement_id,
            from_party=owner,
            to_party=_party(PartnerKind.GEMEENTE),
            desk="Taalhuis",
            reason=f"schulden van {person.family_name}",
            **common,
        )
    # active: services started, sometimes a cost change or a cancelled service
    day += timedelta(days=rng.randrange(14, 45))
    revision += 1
    active = []
    for service in services:
        update: dict[str, object] = {"status": ServiceStatus.STARTED}
        roll = rng.random()
        if service.cost is not None and roll < 0.15:
            cents = service.cost.amount_cents * rng.choice([6, 8, 12]) // 10 // 500 * 500
            if service.instrument is Instrument.TAILORED_BUDGET:
                cents = min(TAILORED_BUDGET_CAP_CENTS, cents)
            update["cost"] = Money(amount_cents=max(500, cents))
        elif service.instrument is not None and roll > 0.9:
            update["status"] = ServiceStatus.CANCELLED
        active.append(service.model_copy(update=update))
    yield version(revision, day, ArrangementStatus.ACTIVE, active)
    # Responsibility passes to the gemeente (bijstand) after everything the first party
    # publishes: later versions by the first party would be refused by the router, and
    # the new party's records would depend on the order of two partners' outboxes.
    transfer = rng.random() < 0.1
    last = day
    if rng.random() >= 0.15:  # else still running at the end of the data
        day += timedelta(days=rng.randrange(30, 160))
        revision += 1
        if rng.random() < 0.85:
            done = [
                s
                if s.status is ServiceStatus.CANCELLED
                else s.model_copy(update={"status": ServiceStatus.FINISHED})
                for s in active
            ]
            yield version(revision, day, ArrangementStatus.FINISHED, done)
        else:
            yield version(revision, day, ArrangementStatus.CANCELLED, active)
        last = day
        if rng.random() < 0.7:
            placed_on = day + timedelta(days=rng.randrange(0, 40))
            outcome = rng.choices(list(OutcomeType), weights=[60, 15, 5, 10, 5, 5], k=1)[0]
            yield PlacementOutcome(
                event_id=ids.event(),
                occurred_at=_at(placed_on, 16),
                outcome_id=ids.token("out"),
                arrangement_id=arrangement_id,
                outcome=outcome,
                started_on=placed_on,
                sector=rng.choice(list(Sector)),
                **common,
            )
            last = placed_on
    if transfer:
        yield ResponsibilityTransfer(
            event_id=ids.event(),
            occurred_at=_at(last + timedelta(days=3), 9),
            transfer_id=ids.token("trf"),
            arrangement_id=arrangement_id,
            from_party=owner,
            to_party=_party(PartnerKind.GEMEENTE),
            reason=TransferReason.BENEFIT_CHANGED,
            new_benefit_status=BenefitStatus.BIJSTAND,
            effective_date=last + timedelta(days=10),
            **common,
        )


# --- input files ------------------------------------------------------------------------------


def write_inputs(world: World, directory: Path) -> list[Path]:
    """One JSON-lines file per publishing partner, records in publishing order."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = defaultdict(list)
    for sequence, record in enumerate(world.records):
        files[record.source_partner].append(
            json.dumps(
                {
                    "seq": sequence,
                    "type": record.avro_name,
                    "record": record.model_dump(mode="json"),
                }
            )
        )
    paths = []
    for partner, lines in sorted(files.items()):
        path = directory / f"{partner}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def read_inputs(paths: Iterable[Path]) -> list[PersonRecord]:
    """The records of the input files, merged back into publishing order."""
    rows: list[tuple[int, PersonRecord]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            model = MODELS[item["type"]]
            record = model.model_validate(item["record"])
            assert isinstance(record, PersonRecord)
            rows.append((item["seq"], record))
    return [record for _, record in sorted(rows, key=lambda row: row[0])]


# --- the router's part --------------------------------------------------------------------------


class RouterStandIn:
    """What the router does for the monitor, until the router itself is in the test."""

    def __init__(self, pseudonymiser: MonitorPseudonymiser) -> None:
        self.pseudonymiser = pseudonymiser
        self.subjects: dict[str, MonitorSubject] = {}
        self.arrangements: dict[tuple[str, str], PersonalArrangement] = {}

    def handle(self, record: CanonicalRecord) -> list[MonitorEvent]:
        assert isinstance(record, PersonRecord)
        key = record.client_pseudonym
        if isinstance(record, ClientProfile):
            self.subjects[key] = subject_from_profile(
                record, self.pseudonymiser, self.subjects.get(key)
            )
            return []
        previous = None
        if isinstance(record, PersonalArrangement) and record.arrangement_id:
            previous = self.arrangements.get((key, record.arrangement_id))
        events = derive(
            record,
            DeriveContext(
                subject=self.subjects[key],
                publisher_kind=PARTNER_KINDS[record.source_partner],
                pseudonymiser=self.pseudonymiser,
                previous_arrangement=previous,
            ),
        )
        if isinstance(record, PersonalArrangement) and record.arrangement_id:
            self.arrangements[key, record.arrangement_id] = record
        return events

    def run(self, records: Iterable[CanonicalRecord]) -> Iterator[MonitorEvent]:
        for record in records:
            yield from self.handle(record)


# --- expected figures, straight from the input ---------------------------------------------


_IN_FORCE = {ArrangementStatus.AGREED, ArrangementStatus.ACTIVE, ArrangementStatus.FINISHED}
_WORK = {OutcomeType.PLACED_IN_WORK, OutcomeType.SELF_EMPLOYED}


def _charge(service: ArrangementService) -> int:
    if service.kind is not ServiceKind.ADDITIONAL or service.cost is None:
        return 0
    return max(
        0,
        service.cost.amount_cents
        - (service.co_financing.amount_cents if service.co_financing else 0),
    )


@dataclass
class Expected:
    """Figures per (region, period), computed without the monitor's code."""

    reached: Counter[tuple[Region, str]] = field(default_factory=Counter)
    reached_age: Counter[tuple[Region, str, str]] = field(default_factory=Counter)
    intakes: Counter[tuple[Region, str]] = field(default_factory=Counter)
    selected: Counter[tuple[Region, str]] = field(default_factory=Counter)
    started: Counter[tuple[Region, str]] = field(default_factory=Counter)
    finished: Counter[tuple[Region, str]] = field(default_factory=Counter)
    referrals: Counter[tuple[Region, str]] = field(default_factory=Counter)
    transfers: Counter[tuple[Region, str]] = field(default_factory=Counter)
    outcomes: Counter[tuple[Region, str, str]] = field(default_factory=Counter)
    uses: Counter[tuple[Region, str, str]] = field(default_factory=Counter)
    committed: Counter[tuple[Region, str, str]] = field(default_factory=Counter)
    released: Counter[tuple[Region, str]] = field(default_factory=Counter)
    paid: Counter[tuple[Region, str, str]] = field(default_factory=Counter)
    days_to_work: dict[tuple[Region, str], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )


def reference(records: Iterable[PersonRecord]) -> Expected:  # noqa: PLR0912
    """The expected figures, from the records as the partners wrote them."""
    out = Expected()
    profile: dict[str, ClientProfile] = {}
    intake: dict[str, date] = {}
    steps: dict[str, set[tuple[Region, str]]] = defaultdict(set)
    age_at_first: dict[tuple[str, Region, str], str] = {}
    versions: dict[str, list[PersonalArrangement]] = defaultdict(list)

    def step(who: str, region: Region, day: date) -> None:
        period = two_month_period(day)
        if (region, period) not in steps[who]:
            steps[who].add((region, period))
            p = profile[who]
            assert p.date_of_birth is not None
            band = age_band(p.date_of_birth, p.occurred_at.date()).value
            age_at_first[who, region, period] = band

    for record in records:
        who = record.client_pseudonym
        if isinstance(record, ClientProfile):
            profile[who] = record
            continue
        region = profile[who].region
        assert region is not None
        if isinstance(record, IntakeDecision):
            assert record.intake_date is not None
            period = two_month_period(record.intake_date)
            out.intakes[region, period] += 1
            out.selected[region, period] += bool(record.selected)
            intake[who] = min(intake.get(who, record.intake_date), record.intake_date)
            step(who, region, record.intake_date)
        elif isinstance(record, Referral):
            out.referrals[region, two_month_period(record.occurred_at.date())] += 1
            step(who, region, record.occurred_at.date())
        elif isinstance(record, ResponsibilityTransfer):
            assert record.effective_date is not None
            out.transfers[region, two_month_period(record.effective_date)] += 1
            step(who, region, record.effective_date)
        elif isinstance(record, PlacementOutcome):
            assert record.started_on is not None
            assert record.outcome is not None
            period = two_month_period(record.started_on)
            label = "WORK" if record.outcome in _WORK else record.outcome.value
            out.outcomes[region, period, label] += 1
            if label == "WORK" and who in intake:
                out.days_to_work[region, period].append((record.started_on - intake[who]).days)
            step(who, region, record.started_on)
        elif isinstance(record, PersonalArrangement):
            assert record.arrangement_id is not None
            assert record.status is not None
            history = versions[record.arrangement_id]
            day = record.occurred_at.date()
            period = two_month_period(day)
            was = history[-1] if history else None
            history.append(record)
            if record.status is ArrangementStatus.DRAFT:
                continue
            step(who, region, day)
            if record.status in _IN_FORCE and (was is None or was.status not in _IN_FORCE):
                out.started[region, period] += 1
            if record.status in {ArrangementStatus.FINISHED, ArrangementStatus.CANCELLED}:
                out.finished[region, period] += 1
            # the budget: obligation per service before and after this version
            before = {s.service_id: s for s in (was.services or [])} if was else {}
            for service in record.services or []:
                if service.instrument is None:
                    continue
                cluster = service.instrument.cluster.value
                old = before.get(service.service_id)
                old_used = (
                    was is not None
                    and was.status in _IN_FORCE
                    and old is not None
                    and old.status is not ServiceStatus.CANCELLED
                )
                now_used = (
                    record.status in _IN_FORCE and service.status is not ServiceStatus.CANCELLED
                )
                if (
                    record.status is ArrangementStatus.CANCELLED
                    and service.status is ServiceStatus.FINISHED
                ):
                    now_used = True
                if old is not None and old.status is ServiceStatus.FINISHED and old_used:
                    continue  # paid: settled
                if now_used and not old_used:
                    out.uses[region, period, cluster] += 1
                old_charge = _charge(old) if old_used and old is not None else 0
                new_charge = _charge(service) if now_used else 0
                delta = new_charge - old_charge
                if delta > 0:
                    out.committed[region, period, cluster] += delta
                elif delta < 0:
                    out.released[region, period] += -delta
                if now_used and service.status is ServiceStatus.FINISHED and new_charge:
                    out.paid[region, period, cluster] += new_charge
    for who, cells in steps.items():
        for region, period in cells:
            out.reached[region, period] += 1
            out.reached_age[region, period, age_at_first[who, region, period]] += 1
    return out
