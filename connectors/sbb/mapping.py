"""SBB export rows -> Vacancy (learning jobs, vacancies) and PlacementOutcome (enrolments).

One export holds three kinds of row, told apart by the column ``soort`` (see README.md):

* ``leerbaan``: a learning job (leerbaan) at a recognised training company -> Vacancy
  with ``trainable`` true;
* ``vacature``: a vacancy SBB brokers -> Vacancy;
* ``praktijkleren``: a practical-learning enrolment of a person -> PlacementOutcome:
  placed in a learning job while it runs, schooling finished with the credential
  (diploma, certificate, practice statement) when it ends with one, dropped out when
  it was stopped.

CSV (``;`` or ``,``, sniffed from the header) or JSON Lines; dates ``jjjj-mm-dd`` or
``dd-mm-jjjj``.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.common import (
    Fields,
    MapContext,
    SourceRow,
    at_midnight,
    build,
)
from connectors.common.vocab import CREDENTIALS, EDUCATION_LEVELS, LANGUAGE_LEVELS, SECTORS
from hub.ids import EventId, PartnerId
from schemas.models import Competence, Employer, Envelope, PlacementOutcome, Vacancy
from schemas.models.enums import OutcomeType
from schemas.vocabulary import EducationLevel

__all__ = ["COLUMNS", "KINDS", "map_row"]

KINDS = ("leerbaan", "vacature", "praktijkleren")
COLUMNS = (
    "soort",
    "id",
    "publicatiedatum",
    "bsn",
    "bedrijf",
    "kvk",
    "titel",
    "opleiding",
    "crebo",
    "niveau",
    "sector",
    "gemeentecode",
    "uren_per_week",
    "aantal",
    "opleidbaar",
    "open_tot",
    "competenties",
    "taalniveau",
    "startdatum",
    "einddatum",
    "resultaat",
    "leerbaan_id",
)
"""Every CSV column, in the order the demo generator writes them."""

_STOPPED = frozenset({"gestopt", "afgebroken", "voortijdig beeindigd"})


def _level(f: Fields) -> EducationLevel | None:
    text = f.text("niveau")
    if text is None:
        return None
    found = EDUCATION_LEVELS.lookup(f"mbo {text}" if text.isdigit() else text)
    if found is None:
        f.fail("niveau", f"{text!r} is not an education level (1-4, mbo 2, havo, ...)")
    return found


def _vacancy(f: Fields, context: MapContext, *, learning_job: bool) -> Vacancy:
    vacancy_id = f.text("id", required=True)
    published = f.date_any("publicatiedatum", required=True)
    company = f.text("bedrijf", required=True)
    title = f.text("titel", required=True)
    sector = f.choice("sector", SECTORS, required=True)
    place = f.municipality("gemeentecode")
    hours = f.integer("uren_per_week", required=True, minimum=1, maximum=60)
    positions = f.integer("aantal", minimum=1, maximum=10_000) or 1
    trainable = True if learning_job else bool(f.boolean("opleidbaar"))
    competences = [
        Competence(name=name.strip()) for name in (f.text("competenties") or "").split("|")
    ]
    course = f.text("opleiding")
    if course:
        competences.insert(0, Competence(name=course, code=f.text("crebo")))
    level = _level(f)
    language = f.choice("taalniveau", LANGUAGE_LEVELS)
    open_until = f.date_any("open_tot")
    kvk = f.text("kvk")
    if kvk is not None and not (kvk.isdigit() and len(kvk) == 8):
        f.fail("kvk", f"{kvk!r} is not a KvK number (8 digits)")
    f.check()
    assert vacancy_id is not None
    assert published is not None
    assert company is not None
    assert title is not None
    assert sector is not None
    assert place is not None
    assert hours is not None
    return build(
        Vacancy,
        event_id=EventId(""),
        occurred_at=at_midnight(published),
        source_partner=PartnerId(context.partner_id),
        vacancy_id=vacancy_id,
        employer=Employer(name=company, kvk_number=kvk),
        title=title,
        sector=sector,
        region=place[1],
        required_competences=[c for c in competences if c.name],
        education_level=level,
        language_level=language,
        hours_per_week=hours,
        positions=positions,
        trainable=trainable,
        open_until=open_until,
    )


def _enrolment(f: Fields, context: MapContext) -> PlacementOutcome:
    enrolment_id = f.text("id", required=True)
    bsn = f.bsn("bsn")
    start = f.date_any("startdatum", required=True)
    end = f.date_any("einddatum")
    result = f.text("resultaat")
    sector = f.choice("sector", SECTORS)
    hours = f.integer("uren_per_week", minimum=1, maximum=60)
    credential = None
    if result is None:
        outcome = OutcomeType.PLACED_IN_WORK
    elif result.lower() in _STOPPED:
        outcome = OutcomeType.DROPPED_OUT
    else:
        outcome = OutcomeType.SCHOOLING_FINISHED
        credential = f.choice("resultaat", CREDENTIALS)
    if result is not None and end is None:
        f.fail("einddatum", f"is required when the resultaat is {result!r}")
    if start and end and end < start:
        f.fail("einddatum", "lies before the startdatum")
    f.check()
    assert enrolment_id is not None
    assert bsn is not None
    assert start is not None
    return build(
        PlacementOutcome,
        event_id=EventId(""),
        occurred_at=at_midnight(end if result is not None and end else start),
        source_partner=PartnerId(context.partner_id),
        client_pseudonym=context.client.pseudonym(bsn),
        outcome_id=f"{enrolment_id}:{outcome.value.lower()}",
        outcome=outcome,
        started_on=start,
        ended_on=end,
        sector=sector,
        hours_per_week=hours,
        vacancy_id=f.text("leerbaan_id"),
        credential=credential,
    )


def map_row(row: SourceRow, context: MapContext) -> Sequence[Envelope]:
    """A Vacancy per learning job or vacancy, a PlacementOutcome per enrolment."""
    f = Fields(row.data)
    kind = (f.text("soort", required=True) or "").lower()
    if kind == "praktijkleren":
        return [_enrolment(f, context)]
    if kind in ("leerbaan", "vacature"):
        return [_vacancy(f, context, learning_job=kind == "leerbaan")]
    if kind:
        f.fail("soort", f"{kind!r} is not one of {', '.join(KINDS)}")
    f.check()
    return []  # pragma: no cover - check() raised
