"""Social partners' notices (JSON) -> ClientProfile, StaffSurplus and Vacancy records.

Three kinds of notice arrive at the webhook (see README.md):

* threatened employees (``werknemers``), e.g. from a union or an employer organisation,
  -> one ClientProfile each (category THREATENED_EMPLOYEE, still employed: benefit NONE);
* a company with a staff surplus, with the employees concerned -> one ClientProfile per
  employee, the company's sector filled in where the employee has none, and one
  StaffSurplus for the company (business data: how many, which occupations and
  competences, when; it names no employee);
* vacancies of member companies (demand in view) -> one Vacancy each.

Every item is mapped on its own, so one bad item does not hold back the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from connectors.common import Fields, MapContext, Mapper, SourceRow, at_midnight, build
from connectors.common.vocab import EDUCATION_LEVELS, LANGUAGE_LEVELS, SECTORS
from hub.ids import EventId, PartnerId
from schemas.models import (
    ClientProfile,
    Competence,
    Contact,
    Employer,
    Envelope,
    StaffSurplus,
    Vacancy,
    WorkHistoryEntry,
)
from schemas.vocabulary import BenefitStatus, JobSeekerCategory, Sector

__all__ = ["Notice", "employee_mapper", "surplus_mapper", "vacancy_mapper"]


class Notice:
    """What a request says about all its items: the notice date and company defaults."""

    def __init__(self, reported_on: date, *, sector: Sector | None = None) -> None:
        self.reported_on = reported_on
        self.sector = sector


def _competences(f: Fields) -> list[Competence]:
    found: list[Competence] = []
    for index, item in enumerate(f.items("competenties")):
        if isinstance(item, str) and item.strip():
            found.append(Competence(name=item.strip()))
        else:
            f.fail(f"competenties[{index}]", "must be a non-empty text")
    return found


def _employee(row: SourceRow, context: MapContext, notice: Notice) -> Sequence[Envelope]:
    f = Fields(row.data)
    bsn = f.bsn("bsn")
    given = f.text("voornamen", required=True)
    family = f.text("achternaam", required=True)
    born = f.date("geboortedatum", required=True)
    residence = f.municipality("gemeentecode")
    job = f.text("functie", required=True)
    sector = f.choice("sector", SECTORS) or notice.sector
    if sector is None:
        f.fail("sector", "is required (on the employee or the company)")
    since = f.date("in_dienst_sinds", required=True)
    until = f.date("verwachte_einddatum")
    hours = f.integer("uren_per_week", minimum=1, maximum=80)
    education = f.choice("opleidingsniveau", EDUCATION_LEVELS, required=True)
    qualified = f.boolean("startkwalificatie")
    language = f.choice("taalniveau", LANGUAGE_LEVELS)
    competences = _competences(f)
    contact = Contact(phone=f.text("telefoon"), email=f.text("email"))
    limitation = f.boolean("arbeidsbeperking")
    banenafspraak = f.boolean("banenafspraak")
    if since and until and until < since:
        f.fail("verwachte_einddatum", "lies before in_dienst_sinds")
    f.check()
    assert bsn is not None
    assert given is not None
    assert family is not None
    assert born is not None
    assert residence is not None
    assert job is not None
    assert sector is not None
    assert since is not None
    assert education is not None
    return [
        build(
            ClientProfile,
            event_id=EventId(""),
            occurred_at=at_midnight(notice.reported_on),
            source_partner=PartnerId(context.partner_id),
            client_pseudonym=context.client.pseudonym(bsn),
            bsn=bsn,
            given_name=given,
            family_name_prefix=f.text("tussenvoegsel"),
            family_name=family,
            date_of_birth=born,
            contact=contact if any(contact.model_dump().values()) else None,
            municipality_code=residence[0],
            region=residence[1],
            job_seeker_category=JobSeekerCategory.THREATENED_EMPLOYEE,
            competences=competences,
            sectors=[sector],
            work_history=[
                WorkHistoryEntry(
                    job_title=job,
                    sector=sector,
                    start_date=since,
                    end_date=until,
                    hours_per_week=hours,
                )
            ],
            education_level=education,
            starting_qualification=(
                qualified if qualified is not None else education.starting_qualification
            ),
            language_level=language,
            benefit_status=BenefitStatus.NONE,
            work_limitation=bool(limitation),
            banenafspraak=bool(banenafspraak),
        )
    ]


def _vacancy(row: SourceRow, context: MapContext, notice: Notice) -> Sequence[Envelope]:
    f = Fields(row.data)
    vacancy_id = f.text("id", required=True)
    published = f.date("publicatiedatum") or notice.reported_on
    employer_data: Any = f.raw("werkgever")
    employer: Employer | None = None
    if employer_data is None:
        f.fail("werkgever", "is required")
    else:
        e = f.nested("werkgever", employer_data)
        if e is not None:
            name = e.text("naam", required=True)
            kvk = e.text("kvk")
            if kvk is not None and not (kvk.isdigit() and len(kvk) == 8):
                e.fail("kvk", f"{kvk!r} is not a KvK number (8 digits)")
            if name:
                employer = Employer(name=name, kvk_number=kvk)
    title = f.text("titel", required=True)
    sector = f.choice("sector", SECTORS, required=True)
    place = f.municipality("gemeentecode")
    hours = f.integer("uren_per_week", required=True, minimum=1, maximum=60)
    positions = f.integer("aantal", minimum=1, maximum=10_000) or 1
    trainable = f.boolean("opleidbaar")
    competences = _competences(f)
    education = f.choice("opleidingsniveau", EDUCATION_LEVELS)
    language = f.choice("taalniveau", LANGUAGE_LEVELS)
    open_until = f.date("open_tot")
    f.check()
    assert vacancy_id is not None
    assert employer is not None
    assert title is not None
    assert sector is not None
    assert place is not None
    assert hours is not None
    return [
        build(
            Vacancy,
            event_id=EventId(""),
            occurred_at=at_midnight(published),
            source_partner=PartnerId(context.partner_id),
            vacancy_id=vacancy_id,
            employer=employer,
            title=title,
            sector=sector,
            region=place[1],
            required_competences=competences,
            education_level=education,
            language_level=language,
            hours_per_week=hours,
            positions=positions,
            trainable=bool(trainable),
            open_until=open_until,
        )
    ]


def _employer(f: Fields) -> Employer | None:
    employer_data: Any = f.raw("werkgever")
    if employer_data is None:
        f.fail("werkgever", "is required")
        return None
    e = f.nested("werkgever", employer_data)
    if e is None:
        return None
    name = e.text("naam", required=True)
    kvk = e.text("kvk")
    if kvk is not None and not (kvk.isdigit() and len(kvk) == 8):
        e.fail("kvk", f"{kvk!r} is not a KvK number (8 digits)")
    return Employer(name=name, kvk_number=kvk) if name else None


def _surplus(row: SourceRow, context: MapContext, notice: Notice) -> Sequence[Envelope]:
    """The notice itself (its company fields) -> one StaffSurplus; the occupations and
    competences default to those of the employees listed, without naming them."""
    f = Fields(row.data)
    employer = _employer(f)
    place = f.municipality("gemeentecode")
    count = f.integer("boventallig", required=True, minimum=1, maximum=1_000_000)
    start = f.date("verwacht_vanaf") or notice.reported_on
    until = f.date("verwacht_tot")
    occupations = [o.strip() for o in f.items("functies") if isinstance(o, str) and o.strip()]
    competences = _competences(f)
    for item in f.items("werknemers"):
        if not isinstance(item, dict):
            continue
        job = item.get("functie")
        if not f.raw("functies") and isinstance(job, str) and job.strip():
            occupations.append(job.strip())
        if not f.raw("competenties"):
            competences += [
                Competence(name=c.strip())
                for c in item.get("competenties") or ()
                if isinstance(c, str) and c.strip()
            ]
    if until is not None and until < start:
        f.fail("verwacht_tot", "lies before verwacht_vanaf")
    if notice.sector is None:
        f.fail("sector", "is required for a staff surplus")
    f.check()
    assert employer is not None
    assert place is not None
    assert count is not None
    assert notice.sector is not None
    key = employer.kvk_number or employer.name.lower().replace(" ", "-")
    return [
        build(
            StaffSurplus,
            event_id=EventId(""),
            occurred_at=at_midnight(notice.reported_on),
            source_partner=PartnerId(context.partner_id),
            surplus_id=f"sur-{context.partner_id}-{key}-{notice.reported_on.isoformat()}",
            employer=employer,
            sector=notice.sector,
            region=place[1],
            announced_on=notice.reported_on,
            expected_from=start,
            expected_until=until,
            staff_count=count,
            occupations=list(dict.fromkeys(occupations)),
            competences=list({c.name.lower(): c for c in competences}.values()),
        )
    ]


def surplus_mapper(notice: Notice) -> Mapper:
    """The mapper for the company part of a staff-surplus notice (the body is the row)."""

    def map_item(row: SourceRow, context: MapContext) -> Sequence[Envelope]:
        return _surplus(row, context, notice)

    return map_item


def employee_mapper(notice: Notice) -> Mapper:
    """The mapper for employee items of a notice."""

    def map_item(row: SourceRow, context: MapContext) -> Sequence[Envelope]:
        return _employee(row, context, notice)

    return map_item


def vacancy_mapper(notice: Notice) -> Mapper:
    """The mapper for vacancy items of a notice."""

    def map_item(row: SourceRow, context: MapContext) -> Sequence[Envelope]:
        return _vacancy(row, context, notice)

    return map_item
