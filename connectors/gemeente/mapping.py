"""Gemeente export rows -> ClientProfile.

The export is a semicolon-separated CSV with Dutch headers (see README.md): one row per
person the municipality is first responsible for (bijstand applicants, young people,
self-employed, people without benefit). Dates are ``dd-mm-jjjj``, the municipality is
a CBS code, yes/no columns say ``ja``/``nee``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO

from connectors.common import (
    Fields,
    MapContext,
    SourceRow,
    at_midnight,
    build,
    csv_rows,
)
from connectors.common.vocab import (
    BENEFITS,
    EDUCATION_LEVELS,
    JOB_SEEKER_CATEGORIES,
    LANGUAGE_LEVELS,
    SECTORS,
)
from hub.ids import ClientPseudonym, EventId, PartnerId
from schemas.models import ClientProfile, Competence, Contact, Envelope
from schemas.vocabulary import BenefitStatus, JobSeekerCategory

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "map_row", "read_rows"]

COLUMNS = (
    "BSN",
    "Voornamen",
    "Tussenvoegsel",
    "Achternaam",
    "Geboortedatum",
    "Gemeentecode",
    "Doelgroep",
    "Uitkering",
    "Aanmelddatum",
    "Opleidingsniveau",
    "Startkwalificatie",
    "Taalniveau",
    "Sector",
    "Laatste functie",
    "Jaren in laatste functie",
    "Straat",
    "Huisnummer",
    "Postcode",
    "Woonplaats",
    "Telefoon",
    "E-mail",
    "Schulden",
    "Arbeidsbeperking",
    "Banenafspraak",
    "Verminderde loonwaarde",
)
"""Every column, in the order the demo generator writes them."""
REQUIRED_COLUMNS = (
    "BSN",
    "Voornamen",
    "Achternaam",
    "Geboortedatum",
    "Gemeentecode",
    "Doelgroep",
    "Aanmelddatum",
    "Opleidingsniveau",
)

_BENEFIT_OF = {
    JobSeekerCategory.BIJSTAND_APPLICANT: BenefitStatus.BIJSTAND,
    JobSeekerCategory.WW_ENTRANT: BenefitStatus.WW,
}


def read_rows(stream: IO[str], label: str) -> Iterator[SourceRow]:
    """The export's rows (``;``-separated, header required)."""
    return csv_rows(stream, delimiter=";", required=REQUIRED_COLUMNS, label=label)


def map_row(row: SourceRow, context: MapContext) -> Sequence[Envelope]:
    """One ClientProfile per row."""
    f = Fields(row.data)
    bsn = f.bsn("BSN")
    given = f.text("Voornamen", required=True)
    prefix = f.text("Tussenvoegsel")
    family = f.text("Achternaam", required=True)
    born = f.date("Geboortedatum", required=True, dutch=True)
    residence = f.municipality("Gemeentecode")
    category = f.choice("Doelgroep", JOB_SEEKER_CATEGORIES, required=True)
    benefit = f.choice("Uitkering", BENEFITS)
    registered = f.date("Aanmelddatum", required=True, dutch=True)
    education = f.choice("Opleidingsniveau", EDUCATION_LEVELS, required=True)
    qualified = f.boolean("Startkwalificatie")
    language = f.choice("Taalniveau", LANGUAGE_LEVELS)
    sector = f.choice("Sector", SECTORS)
    job = f.text("Laatste functie")
    years = f.integer("Jaren in laatste functie", maximum=60)
    address = {
        "street": f.text("Straat"),
        "house_number": f.text("Huisnummer"),
        "postal_code": f.text("Postcode"),
        "city": f.text("Woonplaats"),
        "phone": f.text("Telefoon"),
        "email": f.text("E-mail"),
    }
    debts = f.boolean("Schulden")
    limitation = f.boolean("Arbeidsbeperking")
    banenafspraak = f.boolean("Banenafspraak")
    reduced_wage_value = f.boolean("Verminderde loonwaarde")
    if born and registered and born >= registered:
        f.fail("Geboortedatum", "lies on or after the Aanmelddatum")
    f.check()
    # check() passed, so every required value is there (the asserts narrow the types)
    assert bsn is not None
    assert given is not None
    assert family is not None
    assert born is not None
    assert residence is not None
    assert category is not None
    assert registered is not None
    assert education is not None
    code, region = residence
    return [
        build(
            ClientProfile,
            event_id=EventId(""),
            occurred_at=at_midnight(registered),
            source_partner=PartnerId(context.partner_id),
            client_pseudonym=ClientPseudonym(context.client.pseudonym(bsn)),
            bsn=bsn,
            given_name=given,
            family_name_prefix=prefix,
            family_name=family,
            date_of_birth=born,
            contact=Contact(**address) if any(address.values()) else None,
            municipality_code=code,
            region=region,
            job_seeker_category=category,
            competences=[Competence(name=job, years_experience=years)] if job else [],
            sectors=[sector] if sector else [],
            education_level=education,
            starting_qualification=(
                qualified if qualified is not None else education.starting_qualification
            ),
            language_level=language,
            benefit_status=benefit or _BENEFIT_OF.get(category, BenefitStatus.NONE),
            reduced_wage_value=bool(reduced_wage_value),
            work_limitation=bool(limitation),
            banenafspraak=bool(banenafspraak),
            has_debts=debts,
        )
    ]
