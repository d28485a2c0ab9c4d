"""UWV export lines -> ClientProfile (+ PersonalArrangement).

The export is JSON Lines (see README.md): one object per person entering WW, with the
benefit UWV pays (WW unless ``uitkering`` says Wajong, WIA, ...), the labour-market
profile UWV drew up and, when one was agreed, the personal arrangement UWV
composed as first-responsible party. Dates are ISO ``jjjj-mm-dd``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, Any

from connectors.common import Fields, MapContext, SourceRow, at_midnight, build, jsonl_rows
from connectors.common.vocab import (
    ARRANGEMENT_STATUSES,
    BENEFITS,
    EDUCATION_LEVELS,
    HEALTH_NEEDS,
    INSTRUMENTS,
    LANGUAGE_LEVELS,
    SECTORS,
    SERVICE_STATUSES,
)
from hub.ids import ClientPseudonym, EventId, PartnerId
from schemas.models import (
    ArrangementService,
    ClientProfile,
    Competence,
    Contact,
    Envelope,
    Money,
    PartyRef,
    PersonalArrangement,
    WorkHistoryEntry,
)
from schemas.models.enums import ArrangementStatus, ServiceKind, ServicePackage, ServiceStatus
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus, JobSeekerCategory, PartnerKind

__all__ = ["map_row", "read_rows"]

_PACKAGES = {p.value: p for p in ServicePackage}


def read_rows(stream: IO[str], label: str) -> Iterator[SourceRow]:
    """The export's lines."""
    return jsonl_rows(stream, label)


def _contact(f: Fields) -> Contact | None:
    address = f.raw("adres")
    street = number = postcode = city = None
    if address is not None:
        a = f.nested("adres", address)
        if a is not None:
            street, number = a.text("straat"), a.text("huisnummer")
            postcode, city = a.text("postcode"), a.text("woonplaats")
    contact = Contact(
        street=street,
        house_number=number,
        postal_code=postcode,
        city=city,
        phone=f.text("telefoon"),
        email=f.text("email"),
    )
    return contact if any(contact.model_dump().values()) else None


def _work_history(f: Fields) -> list[WorkHistoryEntry]:
    entries: list[WorkHistoryEntry] = []
    for index, item in enumerate(f.items("werkervaring")):
        w = f.nested("werkervaring", item, index)
        if w is None:
            continue
        title = w.text("functie", required=True)
        sector = w.choice("sector", SECTORS, required=True)
        start = w.date("van", required=True)
        end = w.date("tot")
        hours = w.integer("uren_per_week", maximum=80)
        if start and end and end < start:
            w.fail("tot", "lies before 'van'")
        if title and sector and start:
            entries.append(
                WorkHistoryEntry(
                    job_title=title,
                    sector=sector,
                    start_date=start,
                    end_date=end,
                    hours_per_week=hours,
                )
            )
    return entries


def _competences(f: Fields) -> list[Competence]:
    found: list[Competence] = []
    for index, item in enumerate(f.items("competenties")):
        c = f.nested("competenties", item, index)
        if c is None:
            continue
        name = c.text("naam", required=True)
        years = c.integer("jaren", maximum=60)
        if name:
            found.append(Competence(name=name, code=c.text("code"), years_experience=years))
    return found


def _service(f: Fields, index: int, item: Any) -> ArrangementService | None:
    s = f.nested("diensten", item, index)
    if s is None:
        return None
    service_id = s.text("id", required=True)
    instrument = s.choice("instrument", INSTRUMENTS)
    description = s.text("omschrijving", required=True)
    provider = s.text("aanbieder", required=True)
    cost = s.euro_cents("kosten_eur")
    co_financing = s.euro_cents("cofinanciering_eur")
    status = s.choice("status", SERVICE_STATUSES) or ServiceStatus.PLANNED
    package_text = s.text("pakket")
    package = _PACKAGES.get(package_text.upper()) if package_text else None
    if package_text and package is None:
        s.fail("pakket", f"{package_text!r} is not a service package (I, II or III)")
    start, end = s.date("startdatum"), s.date("einddatum")
    if not (service_id and description and provider):
        return None
    return ArrangementService(
        service_id=service_id,
        kind=ServiceKind.ADDITIONAL if instrument else ServiceKind.REGULAR,
        instrument=instrument,
        package=package,
        description=description,
        provider=provider,
        cost=Money(amount_cents=cost) if cost is not None else None,
        co_financing=Money(amount_cents=co_financing) if co_financing is not None else None,
        status=status,
        start_date=start,
        end_date=end,
    )


def _arrangement(
    f: Fields, context: MapContext, pseudonym: ClientPseudonym, region: Region | None
) -> PersonalArrangement | None:
    data = f.raw("arrangement")
    if data is None:
        return None
    a = f.nested("arrangement", data)
    if a is None:
        return None
    arrangement_id = a.text("id", required=True)
    start = a.date("startdatum", required=True)
    end = a.date("einddatum")
    revision = a.integer("versie", minimum=1) or 1
    status = a.choice("status", ARRANGEMENT_STATUSES) or ArrangementStatus.ACTIVE
    services = [
        service
        for index, item in enumerate(a.items("diensten"))
        if (service := _service(a, index, item)) is not None
    ]
    if not (arrangement_id and start and region):
        return None
    return PersonalArrangement(
        event_id=EventId(""),
        occurred_at=at_midnight(start),
        source_partner=PartnerId(context.partner_id),
        client_pseudonym=pseudonym,
        arrangement_id=arrangement_id,
        revision=revision,
        composed_by=PartyRef(partner_id=PartnerId(context.partner_id), kind=PartnerKind.UWV),
        region=region,
        status=status,
        agreed_with_client=True,
        services=services,
        valid_from=start,
        valid_until=end,
    )


def map_row(row: SourceRow, context: MapContext) -> Sequence[Envelope]:
    """A ClientProfile per line, and a PersonalArrangement when the line has one."""
    f = Fields(row.data)
    bsn = f.bsn("bsn")
    given = f.text("voornamen", required=True)
    family = f.text("achternaam", required=True)
    born = f.date("geboortedatum", required=True)
    residence = f.municipality("gemeentecode")
    ww_start = f.date("ww_ingangsdatum", required=True)
    education = f.choice("opleidingsniveau", EDUCATION_LEVELS, required=True)
    qualified = f.boolean("startkwalificatie")
    sectors = f.choices("sectoren", SECTORS)
    needs = f.choices("gezondheidsbehoeften", HEALTH_NEEDS)
    benefit = f.choice("uitkering", BENEFITS) or BenefitStatus.WW
    contact = _contact(f)
    history = _work_history(f)
    competences = _competences(f)
    pseudonym = context.client.pseudonym(bsn) if bsn else ClientPseudonym("")
    arrangement = _arrangement(f, context, pseudonym, residence[1] if residence else None)
    f.check()
    assert bsn is not None
    assert given is not None
    assert family is not None
    assert born is not None
    assert residence is not None
    assert ww_start is not None
    assert education is not None
    profile = build(
        ClientProfile,
        event_id=EventId(""),
        occurred_at=at_midnight(ww_start),
        source_partner=PartnerId(context.partner_id),
        client_pseudonym=pseudonym,
        bsn=bsn,
        given_name=given,
        family_name_prefix=f.text("tussenvoegsel"),
        family_name=family,
        date_of_birth=born,
        contact=contact,
        municipality_code=residence[0],
        region=residence[1],
        job_seeker_category=JobSeekerCategory.WW_ENTRANT,
        competences=competences,
        sectors=sectors or sorted({h.sector for h in history}, key=list(SECTORS.enum).index),
        work_history=history,
        education_level=education,
        starting_qualification=(
            qualified if qualified is not None else education.starting_qualification
        ),
        language_level=f.choice("taalniveau", LANGUAGE_LEVELS),
        benefit_status=benefit,
        reduced_wage_value=bool(f.boolean("verminderde_loonwaarde")),
        work_limitation=bool(f.boolean("arbeidsbeperking")),
        banenafspraak=bool(f.boolean("banenafspraak")),
        health_needs=needs,
        has_debts=f.boolean("schulden"),
    )
    f.check()  # the late getters above may have found problems too
    return [profile] if arrangement is None else [profile, arrangement]
