"""The inbound rules: may this record, from this publisher, enter the hub?

Each rule is a function returning a :class:`Rejection` (reason code, readable message,
field) or None. :func:`validate` runs the rules that apply to the record's type, first
failure wins. Messages name the rule and the field, never the field's value (a BSN must
not end up in a dead letter's message).

The rules:

* **schema** - the fields a publisher must fill in are filled in (the Avro schemas make
  everything but the envelope nullable so the hub can withhold categories; a publisher
  may not), and ``withheld_categories`` is empty (``SCHEMA_INVALID``);
* **routing** - the value's ``source_partner`` is the owner of the outbox
  (``PUBLISHER_NOT_ALLOWED``), the record key is its client pseudonym or vacancy id
  (``KEY_MISMATCH``), and the record is routed on the partition its key hashes to, so it
  meets the subject's consents (``PARTITION_MISMATCH``: the router moves a record published
  elsewhere there first, :mod:`hub.router.repartition`, so this only catches a fault of the
  hub's own);
* **identity** - the BSN passes the eleven-test (``BSN_INVALID``);
* **residence** - the municipality is a known CBS code (``MUNICIPALITY_UNKNOWN``); the
  region is derived from it, a contradicting region is refused, and an arrangement is
  for the person's region of residence (``REGION_MISMATCH``);
* **region of the party** - a regional party (one the directory gives a region) acts for
  the residents of its region only: its profiles, intakes and arrangements are of people
  living there (``OUTSIDE_REGION``); national parties act everywhere;
* **category** - a job-seeker category the profile's own data contradicts: a young person
  is under 27 on the day the profile was recorded (``CATEGORY_CONTRADICTED``);
* **roll-out** - a region's records are refused until its roll-out phase has started
  (``REGION_NOT_LIVE``, :mod:`schemas.rollout`; the router's clock decides the day);
* **publisher** - profile, intake and arrangement come from the first-responsible party
  (the party the subject's category makes responsible, or the one responsibility was
  transferred to); a referral from its referring party; a transfer from the party
  handing over or taking over; parties named must be in the directory
  (``PUBLISHER_NOT_ALLOWED``, ``ARRANGEMENT_UNKNOWN``);
* **brokering** - an availability comes from the first-responsible party
  (``PUBLISHER_NOT_ALLOWED``); a staff surplus from a social partner or UWV, for at least
  one employee, its expected period not ending before it starts (``SCHEMA_INVALID``);
* **menu card** - every additional service names a menu-card instrument
  (``INSTRUMENT_NOT_ON_MENU``); banenafspraak instruments only for that target group
  (``BANENAFSPRAAK_ONLY``); wage dispensation only for Wajong with reduced wage value
  (``WAGE_DISPENSATION_NOT_ALLOWED``); package I, the employer's social plan, only for
  employees threatened with unemployment (``PACKAGE_NOT_ALLOWED``); the tailored budget
  at most EUR 1,000 per person summed over the latest version of each of their
  arrangements, cancelled services not counted (``TAILORED_BUDGET_EXCEEDED``).

Rules that need what came before (the subject's category, banenafspraak status, the
first-responsible party, earlier arrangements) read a :class:`SubjectState`. When it
does not know (no profile or intake yet), they refuse: the hub cannot check the rule.
They run after the rules that read only the record, and their refusals name what of
the subject's state they reveal (:class:`Reveals`): the router tells the reason only to a
publisher entitled to that (docs/security-overview.md, "Rejection notices").

Plain Python: no Kafka, no faust.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kafka.partitioner.default import murmur2

from hub.router.state import SubjectState
from schemas.identifiers import is_valid_bsn
from schemas.menu_card import BANENAFSPRAAK_ONLY, TAILORED_BUDGET_CAP_CENTS, Instrument
from schemas.models import (
    ArrangementService,
    Availability,
    CanonicalRecord,
    ClientProfile,
    IntakeDecision,
    PartyRef,
    PersonalArrangement,
    PersonRecord,
    PlacementOutcome,
    Referral,
    ResponsibilityTransfer,
    StaffSurplus,
    Vacancy,
)
from schemas.models.enums import DeadLetterReason, ServiceKind, ServicePackage, ServiceStatus
from schemas.regions import Region, municipality_table, unknown_municipality
from schemas.rollout import Rollout, shipped_rollout
from schemas.vocabulary import (
    YOUNG_PERSON_AGE_LIMIT,
    BenefitStatus,
    DataCategory,
    JobSeekerCategory,
    PartnerKind,
    age_on,
)
from topics.partners import Partner

__all__ = [
    "OUTBOX_RECORDS",
    "REQUIRED_FIELDS",
    "SURPLUS_PUBLISHERS",
    "Rejection",
    "Reveals",
    "check_availability_publisher",
    "check_banenafspraak_only",
    "check_bsn",
    "check_category",
    "check_instruments_on_menu",
    "check_key",
    "check_live",
    "check_municipality",
    "check_packages",
    "check_partition",
    "check_party_region",
    "check_publisher",
    "check_required",
    "check_source_partner",
    "check_surplus",
    "check_tailored_budget",
    "check_wage_dispensation",
    "check_withheld_empty",
    "derive",
    "partition_of",
    "responsible_kinds",
    "tailored_budget_cents",
    "validate",
    "validate_stateless",
]

OUTBOX_RECORDS: tuple[type[CanonicalRecord], ...] = (
    ClientProfile,
    IntakeDecision,
    PersonalArrangement,
    Referral,
    PlacementOutcome,
    ResponsibilityTransfer,
    Vacancy,
    StaffSurplus,
    Availability,
)
"""What a partner may publish to its outbox."""

REQUIRED_FIELDS: dict[type[CanonicalRecord], tuple[str, ...]] = {
    ClientProfile: (
        "bsn",
        "given_name",
        "family_name",
        "date_of_birth",
        "municipality_code",
        "job_seeker_category",
        "education_level",
        "starting_qualification",
        "benefit_status",
    ),
    IntakeDecision: (
        "intake_id",
        "intake_date",
        "job_seeker_category",
        "first_responsible",
        "selected",
    ),
    PersonalArrangement: (
        "arrangement_id",
        "revision",
        "composed_by",
        "region",
        "status",
        "agreed_with_client",
        "valid_from",
    ),
    Referral: ("referral_id", "from_party", "to_party", "reason"),
    PlacementOutcome: ("outcome_id", "outcome", "started_on"),
    ResponsibilityTransfer: (
        "transfer_id",
        "arrangement_id",
        "from_party",
        "to_party",
        "reason",
        "effective_date",
    ),
    Vacancy: (),
    StaffSurplus: (),
    Availability: ("availability_id", "available"),
}
"""Fields a publisher must fill in (null only ever means: withheld by the hub)."""

_RESPONSIBLE_KINDS = frozenset({PartnerKind.UWV, PartnerKind.GEMEENTE, PartnerKind.SOCIAL_PARTNER})


@dataclass(frozen=True, slots=True)
class Reveals:
    """What of the subject's state a refusal tells: these categories of the records of
    ``record_type`` the state came from (and, with them, that the hub knows the subject
    or not)."""

    record_type: str
    categories: frozenset[DataCategory]


RESPONSIBILITY = Reveals(
    IntakeDecision.avro_name, frozenset({DataCategory.INTAKE, DataCategory.BENEFIT_STATUS})
)
"""Who is first responsible, the subject's category, whether the hub knows them at all."""
RESIDENCE = Reveals(ClientProfile.avro_name, frozenset({DataCategory.RESIDENCE}))
BANENAFSPRAAK = Reveals(ClientProfile.avro_name, frozenset({DataCategory.HEALTH}))
WAGE_VALUE = Reveals(
    ClientProfile.avro_name, frozenset({DataCategory.BENEFIT_STATUS, DataCategory.HEALTH})
)
ARRANGEMENTS = Reveals(PersonalArrangement.avro_name, frozenset({DataCategory.ARRANGEMENT}))
"""The subject's arrangements, other parties' included (their ids, the budget spent)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record is refused: a reason code, a readable message, the field at fault,
    and what of the subject's state the refusal reveals (None: nothing beyond the record
    and the publisher's own identity)."""

    reason: DeadLetterReason
    message: str
    field: str | None = None
    reveals: Reveals | None = None


def partition_of(key: bytes, partitions: int) -> int:
    """The partition of ``key``: murmur2, as the Java client and kafka-python choose it."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def responsible_kinds(category: JobSeekerCategory) -> frozenset[PartnerKind]:
    """Who may be first responsible: threatened employees' social partners, "and UWV
    where asked" (docs/domain.md); otherwise the one kind the category names."""
    if category is JobSeekerCategory.THREATENED_EMPLOYEE:
        return frozenset({PartnerKind.SOCIAL_PARTNER, PartnerKind.UWV})
    return frozenset({category.first_responsible})


# --- schema and routing ---------------------------------------------------------------------------


def check_required(record: CanonicalRecord) -> Rejection | None:
    for name in REQUIRED_FIELDS.get(type(record), ()):
        if getattr(record, name) is None:
            return Rejection(
                DeadLetterReason.SCHEMA_INVALID,
                f"{record.avro_name}: '{name}' is required from the publisher",
                name,
            )
    return None


def check_withheld_empty(record: CanonicalRecord) -> Rejection | None:
    if getattr(record, "withheld_categories", None):
        return Rejection(
            DeadLetterReason.SCHEMA_INVALID,
            "'withheld_categories' is filled in by the hub; a publisher leaves it empty",
            "withheld_categories",
        )
    return None


def check_source_partner(record: CanonicalRecord, publisher: Partner) -> Rejection | None:
    source = getattr(record, "source_partner", None)
    if source != publisher.id:
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            f"source_partner names another partner than the owner of the outbox ({publisher.id})",
            "source_partner",
        )
    return None


def _natural_key(record: CanonicalRecord) -> tuple[str, str] | None:
    if isinstance(record, PersonRecord):
        return "client_pseudonym", record.client_pseudonym
    if isinstance(record, Vacancy):
        return "vacancy_id", record.vacancy_id
    if isinstance(record, StaffSurplus):
        return "surplus_id", record.surplus_id
    return None


def check_key(record: CanonicalRecord, key: bytes | None) -> Rejection | None:
    natural = _natural_key(record)
    if natural is None:
        return None
    name, value = natural
    if key is None or key != value.encode("utf-8"):
        return Rejection(
            DeadLetterReason.KEY_MISMATCH,
            f"the record key must be the record's {name}",
            name,
        )
    return None


def check_partition(key: bytes | None, partition: int, partitions: int) -> Rejection | None:
    if key is None:
        return None
    expected = partition_of(key, partitions)
    if expected != partition:
        return Rejection(
            DeadLetterReason.PARTITION_MISMATCH,
            f"routed on partition {partition}, but the key hashes to partition {expected} "
            "(murmur2): the hub failed to move it there",
        )
    return None


# --- identity and residence -----------------------------------------------------------------------


def check_bsn(profile: ClientProfile) -> Rejection | None:
    if profile.bsn is not None and not is_valid_bsn(profile.bsn):
        return Rejection(
            DeadLetterReason.BSN_INVALID,
            "bsn is not 9 digits passing the eleven-test",
            "bsn",
        )
    return None


def check_municipality(profile: ClientProfile) -> Rejection | None:
    code = profile.municipality_code or ""
    if code not in municipality_table():
        return Rejection(
            DeadLetterReason.MUNICIPALITY_UNKNOWN,
            unknown_municipality("municipality_code"),
            "municipality_code",
        )
    derived = municipality_table()[code]
    if profile.region is not None and profile.region is not derived:
        return Rejection(
            DeadLetterReason.REGION_MISMATCH,
            "region is not the labour-market region of municipality_code",
            "region",
        )
    return None


def check_arrangement_region(
    arrangement: PersonalArrangement, subject: SubjectState
) -> Rejection | None:
    if subject.region is not None and arrangement.region is not subject.region:
        return Rejection(
            DeadLetterReason.REGION_MISMATCH,
            "region is not the person's region of residence (from the profile): a person "
            "is served in the region where they live",
            "region",
            RESIDENCE,
        )
    return None


def check_category(profile: ClientProfile) -> Rejection | None:
    """The category claim against the profile's own data."""
    born = profile.date_of_birth
    young = profile.job_seeker_category is JobSeekerCategory.YOUNG_PERSON
    age = None if born is None else age_on(born, profile.occurred_at.date())
    if young and age is not None and age >= YOUNG_PERSON_AGE_LIMIT:
        return Rejection(
            DeadLetterReason.CATEGORY_CONTRADICTED,
            f"job_seeker_category YOUNG_PERSON is for people under {YOUNG_PERSON_AGE_LIMIT}, "
            "and date_of_birth makes this person older on the day of the profile",
            "job_seeker_category",
        )
    return None


def _outside(publisher: Partner, region: Region, whose: str) -> Rejection:
    assert publisher.region is not None
    return Rejection(
        DeadLetterReason.OUTSIDE_REGION,
        f"{publisher.id} serves {publisher.region.cbs_name} and acts for its residents only; "
        f"{whose} is {region.cbs_name}",
        "region",
    )


def check_party_region(
    record: CanonicalRecord, publisher: Partner, subject: SubjectState
) -> Rejection | None:
    """A regional party's profiles, intakes and arrangements are of its region's residents."""
    if publisher.region is None:
        return None
    if isinstance(record, ClientProfile):
        lives = municipality_table().get(record.municipality_code or "")
        if lives is not None and lives is not publisher.region:
            return _outside(publisher, lives, "the region of municipality_code")
    elif isinstance(record, PersonalArrangement):
        if record.region is not None and record.region is not publisher.region:
            return _outside(publisher, record.region, "the arrangement's region")
    elif isinstance(record, IntakeDecision) and subject.region not in (None, publisher.region):
        assert subject.region is not None
        found = _outside(publisher, subject.region, "the person's region of residence")
        return Rejection(found.reason, found.message, None, RESIDENCE)
    return None


def check_live(
    record: CanonicalRecord, subject: SubjectState, rollout: Rollout, today: date
) -> Rejection | None:
    """The record's region is live (its roll-out phase started on or before ``today``):
    a profile's by its municipality, an arrangement's, vacancy's or surplus's its own, another
    person record's the person's region of residence when the hub knows it."""
    reveals: Reveals | None = None
    if isinstance(record, ClientProfile):
        region = municipality_table().get(record.municipality_code or "")
    elif isinstance(record, PersonalArrangement | Vacancy | StaffSurplus):
        region = record.region
    elif isinstance(record, PersonRecord):
        region, reveals = subject.region, RESIDENCE
    else:
        region = None
    if region is None or rollout.is_live(region, today):
        return None
    return Rejection(
        DeadLetterReason.REGION_NOT_LIVE,
        f"{region.cbs_name} is not live yet: its roll-out phase starts on "
        f"{rollout.live_from(region).isoformat()}; publish the record again from then",
        "region" if reveals is None else None,
        reveals,
    )


# --- who may publish ------------------------------------------------------------------------------


def _first_responsible(
    publisher: Partner, subject: SubjectState, category: JobSeekerCategory | None, what: str
) -> Rejection | None:
    if subject.first_responsible is not None:
        if subject.first_responsible.partner_id == publisher.id:
            return None
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            f"{what} comes from the first-responsible party "
            f"({subject.first_responsible.partner_id}), not from {publisher.id}",
            "source_partner",
            RESPONSIBILITY,
        )
    category = category or subject.job_seeker_category
    if category is None:
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            f"{what} comes from the first-responsible party, and no profile or intake of this "
            "person says which party that is",
            "source_partner",
            RESPONSIBILITY,
        )
    kinds = responsible_kinds(category)
    if publisher.kind not in kinds:
        allowed = " or ".join(sorted(kinds))
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            f"{what} for a {category} comes from the first-responsible party ({allowed}), "
            f"not from a {publisher.kind}",
            "source_partner",
            RESPONSIBILITY,
        )
    return None


def _known_party(party: PartyRef, directory: Mapping[str, Partner], field: str) -> Rejection | None:
    partner = directory.get(party.partner_id)
    if partner is None or partner.kind is not party.kind:
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            f"{field} does not name a partner of that kind in the partner directory",
            field,
        )
    return None


def check_publisher(  # noqa: PLR0911 - one branch per record type
    record: CanonicalRecord,
    publisher: Partner,
    subject: SubjectState,
    directory: Mapping[str, Partner],
) -> Rejection | None:
    """The publishing party may publish this record (see the module docstring)."""
    if isinstance(record, ClientProfile):
        return _first_responsible(publisher, subject, record.job_seeker_category, "a profile")
    if isinstance(record, IntakeDecision):
        assert record.first_responsible is not None
        if record.first_responsible.partner_id != publisher.id:
            return Rejection(
                DeadLetterReason.PUBLISHER_NOT_ALLOWED,
                "first_responsible must be the publishing party",
                "first_responsible",
            )
        return _first_responsible(publisher, subject, record.job_seeker_category, "an intake")
    if isinstance(record, PersonalArrangement):
        assert record.composed_by is not None
        if record.composed_by.partner_id != publisher.id:
            return Rejection(
                DeadLetterReason.PUBLISHER_NOT_ALLOWED,
                "composed_by must be the publishing party",
                "composed_by",
            )
        return _first_responsible(publisher, subject, None, "an arrangement")
    if isinstance(record, Referral):
        assert record.from_party is not None
        assert record.to_party is not None
        if record.from_party.partner_id != publisher.id:
            return Rejection(
                DeadLetterReason.PUBLISHER_NOT_ALLOWED,
                "from_party must be the publishing party",
                "from_party",
            )
        return _known_party(record.to_party, directory, "to_party")
    if isinstance(record, ResponsibilityTransfer):
        return _check_transfer(record, publisher, subject, directory)
    return None


def _check_transfer(
    record: ResponsibilityTransfer,
    publisher: Partner,
    subject: SubjectState,
    directory: Mapping[str, Partner],
) -> Rejection | None:
    assert record.from_party is not None
    assert record.to_party is not None
    if publisher.id not in {record.from_party.partner_id, record.to_party.partner_id}:
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            "a transfer comes from the party handing over or the party taking over",
            "source_partner",
        )
    for field, party in (("from_party", record.from_party), ("to_party", record.to_party)):
        found = _known_party(party, directory, field)
        if found is not None:
            return found
    if record.to_party.kind not in _RESPONSIBLE_KINDS:
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            f"a {record.to_party.kind} is never first-responsible",
            "to_party",
        )
    current = subject.first_responsible
    if current is None or current.partner_id != record.from_party.partner_id:
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            "from_party is not the person's current first-responsible party",
            "from_party",
            RESPONSIBILITY,
        )
    if (record.arrangement_id or "") not in subject.arrangements:
        return Rejection(
            DeadLetterReason.ARRANGEMENT_UNKNOWN,
            "arrangement_id names no arrangement the hub has accepted for this person",
            "arrangement_id",
            ARRANGEMENTS,
        )
    return None


# --- brokering: availability and staff surplus ----------------------------------------------------

SURPLUS_PUBLISHERS = frozenset({PartnerKind.SOCIAL_PARTNER, PartnerKind.UWV})
"""Who announces a staff surplus: the social partners, and UWV (collective dismissals)."""


def check_availability_publisher(publisher: Partner, subject: SubjectState) -> Rejection | None:
    """Only the first-responsible party marks a person available for placement."""
    return _first_responsible(publisher, subject, None, "an availability")


def check_surplus(record: StaffSurplus, publisher: Partner) -> Rejection | None:
    if publisher.kind not in SURPLUS_PUBLISHERS:
        return Rejection(
            DeadLetterReason.PUBLISHER_NOT_ALLOWED,
            f"a staff surplus comes from a social partner or UWV, not from a {publisher.kind}",
            "source_partner",
        )
    if record.staff_count < 1:
        return Rejection(
            DeadLetterReason.SCHEMA_INVALID, "staff_count must be at least 1", "staff_count"
        )
    if record.expected_until is not None and record.expected_until < record.expected_from:
        return Rejection(
            DeadLetterReason.SCHEMA_INVALID,
            "expected_until lies before expected_from",
            "expected_until",
        )
    return None


# --- the menu card --------------------------------------------------------------------------------


def _services(arrangement: PersonalArrangement) -> list[ArrangementService]:
    return list(arrangement.services or ())


def check_instruments_on_menu(arrangement: PersonalArrangement) -> Rejection | None:
    for index, service in enumerate(_services(arrangement)):
        if service.kind is ServiceKind.ADDITIONAL and service.instrument is None:
            return Rejection(
                DeadLetterReason.INSTRUMENT_NOT_ON_MENU,
                "an additional service must be an instrument of the menu card",
                f"services.{index}.instrument",
            )
    return None


def check_banenafspraak_only(
    arrangement: PersonalArrangement, subject: SubjectState
) -> Rejection | None:
    for index, service in enumerate(_services(arrangement)):
        if service.instrument in BANENAFSPRAAK_ONLY and subject.banenafspraak is not True:
            return Rejection(
                DeadLetterReason.BANENAFSPRAAK_ONLY,
                "this instrument is only for the banenafspraak target group, and the person's "
                "profile does not place them in it",
                f"services.{index}.instrument",
                BANENAFSPRAAK,
            )
    return None


def check_packages(arrangement: PersonalArrangement, subject: SubjectState) -> Rejection | None:
    """Package I is the employer's social plan: only for an employee threatened with
    unemployment (appendix 2 B and C of the working document)."""
    threatened = subject.job_seeker_category is JobSeekerCategory.THREATENED_EMPLOYEE
    for index, service in enumerate(_services(arrangement)):
        if service.package is ServicePackage.I and not threatened:
            return Rejection(
                DeadLetterReason.PACKAGE_NOT_ALLOWED,
                "package I is the employer's social plan, for employees threatened with "
                "unemployment only, and the person is not filed as one",
                f"services.{index}.package",
                RESPONSIBILITY,
            )
    return None


def check_wage_dispensation(
    arrangement: PersonalArrangement, subject: SubjectState
) -> Rejection | None:
    for index, service in enumerate(_services(arrangement)):
        if service.instrument is Instrument.WAGE_DISPENSATION and not (
            subject.benefit_status is BenefitStatus.WAJONG and subject.reduced_wage_value is True
        ):
            return Rejection(
                DeadLetterReason.WAGE_DISPENSATION_NOT_ALLOWED,
                "wage dispensation is only for Wajong with an established reduced wage value",
                f"services.{index}.instrument",
                WAGE_VALUE,
            )
    return None


def tailored_budget_cents(arrangement: PersonalArrangement) -> int:
    """The tailored budget of one arrangement version, cancelled services not counted."""
    return sum(
        service.cost.amount_cents
        for service in _services(arrangement)
        if service.instrument is Instrument.TAILORED_BUDGET
        and service.cost is not None
        and service.status is not ServiceStatus.CANCELLED
    )


def check_tailored_budget(
    arrangement: PersonalArrangement, subject: SubjectState
) -> Rejection | None:
    others = sum(
        tailored_budget_cents(other)
        for key, other in subject.arrangements.items()
        if key != arrangement.arrangement_id
    )
    total = others + tailored_budget_cents(arrangement)
    if total > TAILORED_BUDGET_CAP_CENTS:
        return Rejection(
            DeadLetterReason.TAILORED_BUDGET_EXCEEDED,
            f"the tailored budget over all the person's arrangements would be "
            f"{total / 100:.2f} EUR; the cap is {TAILORED_BUDGET_CAP_CENTS / 100:.2f} EUR",
            "services",
            ARRANGEMENTS,
        )
    return None


# --- all together ---------------------------------------------------------------------------------


def derive(record: CanonicalRecord) -> CanonicalRecord:
    """The accepted record with what the hub derives filled in (a profile's region)."""
    if isinstance(record, ClientProfile) and record.region is None and record.municipality_code:
        region = municipality_table().get(record.municipality_code)
        if region is not None:
            return record.model_copy(update={"region": region})
    return record


def validate(
    record: CanonicalRecord,
    *,
    publisher: Partner,
    key: bytes | None,
    partition: int,
    partitions: int,
    subject: SubjectState,
    directory: Mapping[str, Partner],
    today: date,
    rollout: Rollout | None = None,
) -> Rejection | None:
    """The first rule ``record`` breaks, or None when it may enter the hub. ``today``: the
    router's day (roll-out); ``rollout``: the shipped phasing when None."""
    if not isinstance(record, OUTBOX_RECORDS):
        return _not_an_outbox_record(record)
    live = rollout or shipped_rollout()
    rules = _common_rules(record, publisher, key, partition, partitions)
    # read from the record alone for these: before the rules that read the subject's state
    by_record = isinstance(record, ClientProfile | PersonalArrangement | Vacancy | StaffSurplus)
    if by_record:
        rules.append(lambda: check_live(record, subject, live, today))
    rules += _type_rules(record, publisher, subject, directory)
    if not by_record:
        rules.append(lambda: check_live(record, subject, live, today))
    return _first_broken(rules)


def validate_stateless(
    record: CanonicalRecord,
    *,
    publisher: Partner,
    key: bytes | None,
    partition: int,
    partitions: int,
) -> Rejection | None:
    """The first rule ``record`` breaks among those that do not read the subject's state
    (the record type, required fields, publisher = outbox owner, key, partition, BSN,
    municipality, category, menu card, the party's region), or None. For a record under
    an event id the router already accepted: a true replay passed them the first time,
    another record must not pass unchecked."""
    if not isinstance(record, OUTBOX_RECORDS):
        return _not_an_outbox_record(record)
    rules = _common_rules(record, publisher, key, partition, partitions)
    if isinstance(record, ClientProfile):
        rules += [
            lambda: check_bsn(record),
            lambda: check_municipality(record),
            lambda: check_category(record),
        ]
    if isinstance(record, PersonalArrangement):
        rules.append(lambda: check_instruments_on_menu(record))
    if isinstance(record, StaffSurplus):
        rules.append(lambda: check_surplus(record, publisher))
    if not isinstance(record, IntakeDecision):
        rules.append(lambda: check_party_region(record, publisher, SubjectState()))
    return _first_broken(rules)


def _not_an_outbox_record(record: CanonicalRecord) -> Rejection:
    return Rejection(
        DeadLetterReason.SCHEMA_INVALID,
        f"{record.avro_name} is not a record partners publish to an outbox",
    )


def _common_rules(
    record: Any, publisher: Partner, key: bytes | None, partition: int, partitions: int
) -> list[Callable[[], Rejection | None]]:
    return [
        lambda: check_required(record),
        lambda: check_withheld_empty(record),
        lambda: check_source_partner(record, publisher),
        lambda: check_key(record, key),
        lambda: check_partition(key, partition, partitions),
    ]


def _first_broken(rules: list[Callable[[], Rejection | None]]) -> Rejection | None:
    for rule in rules:
        found = rule()
        if found is not None:
            return found
    return None


def _type_rules(
    record: Any,
    publisher: Partner,
    subject: SubjectState,
    directory: Mapping[str, Partner],
) -> list[Callable[[], Rejection | None]]:
    # The rules that read only the record first: a refusal by one of them tells nothing
    # about the subject's state, and it must not depend on that state either.
    rules: list[Callable[[], Rejection | None]] = []
    if isinstance(record, ClientProfile):
        rules += [
            lambda: check_bsn(record),
            lambda: check_municipality(record),
            lambda: check_category(record),
        ]
    if isinstance(record, PersonalArrangement):
        rules.append(lambda: check_instruments_on_menu(record))
    if isinstance(record, StaffSurplus):
        rules.append(lambda: check_surplus(record, publisher))
    if not isinstance(record, IntakeDecision):  # the intake's reads the state: after
        rules.append(lambda: check_party_region(record, publisher, subject))
    rules.append(lambda: check_publisher(record, publisher, subject, directory))
    if isinstance(record, IntakeDecision):
        rules.append(lambda: check_party_region(record, publisher, subject))
    if isinstance(record, Availability):
        rules.append(lambda: check_availability_publisher(publisher, subject))
    if isinstance(record, PersonalArrangement):
        rules += [
            lambda: check_arrangement_region(record, subject),
            lambda: check_banenafspraak_only(record, subject),
            lambda: check_packages(record, subject),
            lambda: check_wage_dispensation(record, subject),
            lambda: check_tailored_budget(record, subject),
        ]
    return rules
