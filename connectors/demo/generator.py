"""``rmt-hub demo generate``: realistic input files for every partner kind, from a seed.

Writes, under the output directory, what each partner in the directory would export:

* ``uwv/<uwv>-ww-instroom.jsonl``: people entering WW (35% of the people), their
  profiles, and for about 40% the arrangement UWV composed (menu-card instruments);
  6% of them are Wajongers, most with an established reduced wage value and then wage
  dispensation (loondispensatie) in their arrangement;
* ``gemeente/<gemeente>.csv``: bijstand applicants, young people, self-employed and
  people without benefit (35%), living in the municipality's region;
* ``social_partners/<partner>/NNN-*.json``: notices of threatened employees (20%), some
  as a company's staff surplus, and one notice of vacancies per partner;
* ``sbb/<sbb>-leerbanen.csv`` (learning jobs and vacancies) and
  ``sbb/<sbb>-praktijkleren.jsonl`` (practical-learning enrolments, 10%);
* ``consents.jsonl``: who of these people consented to what (about 80%; see
  :mod:`connectors.demo.consents`), naming each person by file and row, never by BSN;
* ``manifest.json``: every file with its kind, partner, row count and the line numbers
  of the deliberately invalid rows (about 1 in 100, at least one per file: a BSN failing
  the eleven-test, an unknown CBS code, an impossible date, an unknown word, a broken
  JSON line, a missing field).

People are spread over the CBS municipality table (national parties) or over the
municipalities of the gemeente's region; ages, sectors (shrinking sectors
over-represented among WW entrants and threatened employees), education and language
levels follow plausible weights. The same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from connectors.common.vocab import INSTRUMENTS
from connectors.demo.consents import CONSENT_SHARE, generate_consents
from connectors.demo.people import Faker
from connectors.gemeente.mapping import COLUMNS as GEMEENTE_COLUMNS
from connectors.sbb.mapping import COLUMNS as SBB_COLUMNS
from schemas.menu_card import Instrument
from schemas.vocabulary import EducationLevel, PartnerKind, Sector
from topics import PartnerDirectory, load_partners

__all__ = ["DEMO_DATE", "DemoFile", "DemoManifest", "generate", "write_gemeente_csv"]

DEMO_DATE = date(2026, 11, 2)
"""The day the demo exports are made (fixed, so a seed always gives the same files)."""
MANIFEST = "manifest.json"

_SHARES = {
    PartnerKind.UWV: 0.35,
    PartnerKind.GEMEENTE: 0.35,
    PartnerKind.SOCIAL_PARTNER: 0.20,
    PartnerKind.SBB: 0.10,
}
_NOTICE_SIZE = 25
_INSTRUMENTS: tuple[tuple[Instrument, int, int, int], ...] = (
    # instrument, weight, cost range in euros
    (Instrument.WORKSHOP, 10, 150, 600),
    (Instrument.SUCCESSFULLY_TO_OTHER_WORK, 8, 300, 900),
    (Instrument.APPLICATION_HELP, 10, 150, 500),
    (Instrument.CAREER_GUIDANCE, 12, 500, 1500),
    (Instrument.SCHOOLING, 10, 1000, 5000),
    (Instrument.PRACTICAL_LEARNING_MBO, 8, 1500, 4500),
    (Instrument.LANGUAGE_EDUCATION, 6, 300, 900),
    (Instrument.DEBT_COUNSELLING, 4, 0, 0),
    (Instrument.JOB_COACH, 4, 1000, 3000),
    (Instrument.TAILORED_BUDGET, 8, 100, 1000),
)


@dataclass(frozen=True)
class DemoFile:
    """One generated input."""

    kind: str  # uwv | gemeente | social_partners | sbb
    partner: str
    path: str  # relative to the output directory
    rows: int
    invalid_lines: tuple[int, ...] = ()
    endpoint: str | None = None  # social partners: the webhook path to POST it to


@dataclass(frozen=True)
class DemoManifest:
    """What ``generate`` wrote."""

    seed: int
    people: int
    as_of: str
    files: tuple[DemoFile, ...] = field(default_factory=tuple)
    consents: int = 0  # lines of consents.jsonl

    def save(self, directory: Path) -> Path:
        path = directory / MANIFEST
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", "utf-8")
        return path

    @classmethod
    def load(cls, directory: Path) -> DemoManifest:
        data = json.loads((directory / MANIFEST).read_text("utf-8"))
        files = tuple(
            DemoFile(**{**f, "invalid_lines": tuple(f.get("invalid_lines", ()))})
            for f in data["files"]
        )
        return cls(
            seed=data["seed"],
            people=data["people"],
            as_of=data["as_of"],
            files=files,
            consents=int(data.get("consents", 0)),
        )


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _invalid_positions(rng: random.Random, rows: int) -> set[int]:
    """Row indexes (0-based) to spoil: about 1 in 100, at least one when there are 3+."""
    if rows < 3:
        return set()
    return set(rng.sample(range(rows), max(1, rows // 100)))


# --- gemeente -------------------------------------------------------------------------------

_GEMEENTE_GROUPS = (("bijstand", 45), ("jongere", 30), ("zzp", 15), ("geen uitkering", 10))


def _gemeente_row(fake: Faker, region: Any, as_of: date) -> dict[str, str]:
    rng = fake.rng
    group = rng.choices([g for g, _ in _GEMEENTE_GROUPS], [w for _, w in _GEMEENTE_GROUPS])[0]
    youngest, oldest = {"jongere": (16, 26), "zzp": (25, 66)}.get(group, (18, 66))
    given, prefix, family = fake.name()
    level = fake.education(young=group == "jongere")
    sector = fake.sector(0.25)
    street, number, postcode = fake.street()
    has_contact = rng.random() < 0.7
    banenafspraak = fake.yes_no(0.03)
    return {
        "BSN": fake.bsn(),
        "Voornamen": given,
        "Tussenvoegsel": prefix,
        "Achternaam": family,
        "Geboortedatum": fake.born(as_of, youngest, oldest).strftime("%d-%m-%Y"),
        "Gemeentecode": fake.municipality(region),
        "Doelgroep": group,
        "Uitkering": "bijstand" if group == "bijstand" else "geen",
        "Aanmelddatum": fake.recent(as_of, 60).strftime("%d-%m-%Y"),
        "Opleidingsniveau": fake.education_word(level),
        "Startkwalificatie": "ja" if level.starting_qualification else "nee",
        "Taalniveau": fake.language_word(fake.language()),
        "Sector": fake.sector_word(sector) if group != "jongere" or rng.random() < 0.5 else "",
        "Laatste functie": fake.job(sector) if rng.random() < 0.8 else "",
        "Jaren in laatste functie": str(rng.randint(0, 25)) if rng.random() < 0.8 else "",
        "Straat": street if has_contact else "",
        "Huisnummer": number if has_contact else "",
        "Postcode": postcode if has_contact else "",
        "Woonplaats": "",
        "Telefoon": fake.phone() if has_contact else "",
        "E-mail": fake.email(given, family) if has_contact and rng.random() < 0.6 else "",
        "Schulden": fake.yes_no(0.2 if group == "bijstand" else 0.08),
        "Arbeidsbeperking": fake.yes_no(0.06),
        "Banenafspraak": banenafspraak,
        "Verminderde loonwaarde": "ja" if banenafspraak == "ja" and rng.random() < 0.5 else "nee",
    }


_GEMEENTE_DEFECTS: tuple[Callable[[dict[str, str], Faker], None], ...] = (
    lambda row, fake: row.update(BSN=fake.invalid_bsn()),
    lambda row, fake: row.update(Gemeentecode="9999"),
    lambda row, fake: row.update(Geboortedatum="31-02-1990"),
    lambda row, fake: row.update(Doelgroep="student"),
    lambda row, fake: row.update(Achternaam=""),
)


def write_gemeente_csv(
    path: Path, *, rows: int, seed: int, region: Any = None, as_of: date = DEMO_DATE
) -> DemoFile:
    """A gemeente export of ``rows`` people (in ``region``, or anywhere), streamed to disk."""
    fake = Faker(random.Random(f"gemeente:{seed}:{path.name}"))  # noqa: S311 - synthetic data
    spoil = _invalid_positions(fake.rng, rows)
    invalid: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, GEMEENTE_COLUMNS, delimiter=";", lineterminator="\n")
        writer.writeheader()
        for index in range(rows):
            row = _gemeente_row(fake, region, as_of)
            if index in spoil:
                _GEMEENTE_DEFECTS[len(invalid) % len(_GEMEENTE_DEFECTS)](row, fake)
                invalid.append(index + 2)
            writer.writerow(row)
    return DemoFile("gemeente", "", path.name, rows, tuple(invalid))


# --- uwv -----------------------------------------------------------------------------------


_WAGE_DISPENSATION = {
    "id": "s9",
    "instrument": INSTRUMENTS.label(Instrument.WAGE_DISPENSATION),
    "omschrijving": "Loondispensatie bij plaatsing (Wajong, verminderde loonwaarde)",
    "aanbieder": "uwv",
    "status": "gepland",
}


def _arrangement(
    fake: Faker, index: int, start: date, spoil_budget: bool, *, dispensation: bool = False
) -> dict[str, Any]:
    rng = fake.rng
    picks = rng.choices(
        [i for i, *_ in _INSTRUMENTS], [w for _, w, *_ in _INSTRUMENTS], k=rng.randint(1, 3)
    )
    services = [
        {
            "id": "s1",
            "omschrijving": "WW-begeleiding en sollicitatieondersteuning",
            "aanbieder": "uwv",
            "status": "gestart",
            "pakket": "III",
            "startdatum": start.isoformat(),
        }
    ]
    for number, instrument in enumerate(dict.fromkeys(picks), start=2):
        _, _, low, high = next(entry for entry in _INSTRUMENTS if entry[0] is instrument)
        cost = rng.randint(low, high) if high else 0
        if instrument is Instrument.TAILORED_BUDGET and spoil_budget:
            cost = 1250  # over the EUR 1,000 cap: the router must refuse this arrangement
        service: dict[str, Any] = {
            "id": f"s{number}",
            "instrument": INSTRUMENTS.label(instrument),
            "omschrijving": f"{INSTRUMENTS.label(instrument).capitalize()} via het RMT",
            "aanbieder": "uwv",
            "status": "gepland",
            "pakket": "II" if instrument is Instrument.SCHOOLING else "III",
        }
        if cost:
            service["kosten_eur"] = cost
        services.append(service)
    if dispensation:
        services.append(dict(_WAGE_DISPENSATION, startdatum=start.isoformat()))
    return {
        "id": f"arr-uwv-{DEMO_DATE.year}-{index:06d}",
        "startdatum": start.isoformat(),
        "einddatum": (start + timedelta(days=270)).isoformat(),
        "status": "actief",
        "diensten": services,
    }


_WAJONG_SHARE = 0.06
"""Of UWV's people, the share on Wajong (all banenafspraak); 70% of them have an
established reduced wage value and, with an arrangement, wage dispensation in it."""


def _uwv_line(fake: Faker, index: int, as_of: date) -> dict[str, Any]:
    rng = fake.rng
    given, prefix, family = fake.name()
    sector = fake.sector(0.45)
    ww_start = fake.recent(as_of, 90)
    worked_from = ww_start - timedelta(days=rng.randint(365, 30 * 365))
    level = fake.education()
    street, number, postcode = fake.street()
    job = fake.job(sector)
    wajong = rng.random() < _WAJONG_SHARE
    reduced_wage_value = wajong and rng.random() < 0.7
    line: dict[str, Any] = {
        "bsn": fake.bsn(),
        "voornamen": given,
        "tussenvoegsel": prefix or None,
        "achternaam": family,
        "geboortedatum": (
            fake.born(as_of, 19, 40) if wajong else fake.born(as_of, 19, 66, peak=55)
        ).isoformat(),
        "gemeentecode": fake.municipality(),
        "adres": {"straat": street, "huisnummer": number, "postcode": postcode},
        "telefoon": fake.phone(),
        "ww_ingangsdatum": ww_start.isoformat(),
        "opleidingsniveau": fake.education_word(level),
        "startkwalificatie": level.starting_qualification,
        "taalniveau": fake.language_word(fake.language()),
        "sectoren": [fake.sector_word(sector)],
        "werkervaring": [
            {
                "functie": job,
                "sector": fake.sector_word(sector),
                "van": worked_from.isoformat(),
                "tot": (ww_start - timedelta(days=1)).isoformat(),
                "uren_per_week": rng.choice((16, 24, 28, 32, 36, 38, 40)),
            }
        ],
        "competenties": [{"naam": job, "jaren": (ww_start - worked_from).days // 365}],
        "uitkering": "wajong" if wajong else "ww",
        "verminderde_loonwaarde": reduced_wage_value,
        "arbeidsbeperking": wajong or rng.random() < 0.05,
        "banenafspraak": wajong or rng.random() < 0.02,
        "schulden": rng.random() < 0.08,
    }
    if rng.random() < 0.4:
        start = ww_start + timedelta(days=rng.randint(7, 30))
        line["arrangement"] = _arrangement(
            fake, index, start, spoil_budget=index % 50 == 7, dispensation=reduced_wage_value
        )
    return line


def _write_uwv(path: Path, fake: Faker, rows: int, as_of: date) -> tuple[int, ...]:
    spoil = _invalid_positions(fake.rng, rows)
    invalid: list[int] = []
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for index in range(rows):
            line = _uwv_line(fake, index, as_of)
            text = json.dumps(line, ensure_ascii=False)
            if index in spoil:
                defect = len(invalid) % 5
                if defect == 0:
                    line["bsn"] = fake.invalid_bsn()
                elif defect == 1:
                    line["gemeentecode"] = "9999"
                elif defect == 2:
                    line["sectoren"] = ["ruimtevaart"]
                elif defect == 3:
                    del line["ww_ingangsdatum"]
                text = json.dumps(line, ensure_ascii=False)
                if defect == 4:
                    text = text[: len(text) // 2]  # a line cut off mid-export
                invalid.append(index + 1)
            out.write(text + "\n")
    return tuple(invalid)


# --- social partners -------------------------------------------------------------------------


def _employee(fake: Faker, as_of: date, sector: Sector | None) -> dict[str, Any]:
    rng = fake.rng
    given, prefix, family = fake.name()
    own = sector or fake.sector(0.5)
    level = fake.education()
    employee: dict[str, Any] = {
        "bsn": fake.bsn(),
        "voornamen": given,
        "tussenvoegsel": prefix or None,
        "achternaam": family,
        "geboortedatum": fake.born(as_of, 20, 66, peak=50).isoformat(),
        "gemeentecode": fake.municipality(),
        "functie": fake.job(own),
        "in_dienst_sinds": (as_of - timedelta(days=rng.randint(365, 25 * 365))).isoformat(),
        "verwachte_einddatum": (as_of + timedelta(days=rng.randint(30, 240))).isoformat(),
        "uren_per_week": rng.choice((20, 24, 32, 36, 38, 40)),
        "opleidingsniveau": fake.education_word(level),
        "taalniveau": fake.language_word(fake.language()),
        "email": fake.email(given, family),
        "banenafspraak": rng.random() < 0.03,
    }
    if sector is None:
        employee["sector"] = fake.sector_word(own)
    return employee


def _spoil_employee(employee: dict[str, Any], fake: Faker, defect: int) -> None:
    if defect == 0:
        employee["bsn"] = fake.invalid_bsn()
    elif defect == 1:
        employee["gemeentecode"] = "0000"
    else:
        del employee["functie"]


def _write_notices(
    directory: Path, fake: Faker, *, partner: str, employees: int, vacancies: int, as_of: date
) -> Iterator[DemoFile]:
    directory.mkdir(parents=True, exist_ok=True)
    done = 0
    number = 0
    spoiled = 0
    while done < employees:
        number += 1
        size = min(_NOTICE_SIZE, employees - done)
        surplus = number % 3 == 0
        sector = fake.sector(0.5) if surplus else None
        items = []
        invalid: list[int] = []
        spoil = _invalid_positions(fake.rng, size)  # per notice: at least one in each
        for item in range(size):
            employee = _employee(fake, as_of, sector)
            if item in spoil:
                _spoil_employee(employee, fake, spoiled % 3)
                spoiled += 1
                invalid.append(item + 1)
            items.append(employee)
        body: dict[str, Any] = {"melddatum": fake.recent(as_of, 30).isoformat()}
        if surplus:
            assert sector is not None
            name, kvk = fake.company()
            body |= {
                "werkgever": {"naam": name, "kvk": kvk},
                "sector": fake.sector_word(sector),
                "boventallig": size + fake.rng.randint(0, 40),
            }
            # the establishment: where a valid employee lives (no draw, so the rest of
            # the generated data stays as it was)
            valid = [e for i, e in enumerate(items, 1) if i not in invalid]
            if valid:
                body["gemeentecode"] = valid[0]["gemeentecode"]
        body["werknemers"] = items
        kind = "staff-surplus" if surplus else "threatened-employees"
        name = f"{number:03d}-{kind}.json"
        (directory / name).write_text(json.dumps(body, ensure_ascii=False, indent=1), "utf-8")
        rel = f"{directory.parent.name}/{directory.name}/{name}"
        yield DemoFile("social_partners", partner, rel, size, tuple(invalid), f"/v1/{kind}")
        done += size
    if vacancies:
        items = []
        for index in range(vacancies):
            sector = fake.sector(0.2)
            name, kvk = fake.company()
            items.append(
                {
                    "id": f"{partner}-vac-{index + 1:05d}",
                    "werkgever": {"naam": name, "kvk": kvk},
                    "titel": fake.job(sector),
                    "sector": fake.sector_word(sector),
                    "gemeentecode": fake.municipality(),
                    "uren_per_week": fake.rng.choice((24, 32, 36, 40)),
                    "aantal": fake.rng.randint(1, 5),
                    "opleidbaar": fake.rng.random() < 0.5,
                    "open_tot": (as_of + timedelta(days=fake.rng.randint(14, 120))).isoformat(),
                }
            )
        body = {"melddatum": as_of.isoformat(), "vacatures": items}
        name = f"{number + 1:03d}-vacancies.json"
        (directory / name).write_text(json.dumps(body, ensure_ascii=False, indent=1), "utf-8")
        rel = f"{directory.parent.name}/{directory.name}/{name}"
        yield DemoFile("social_partners", partner, rel, vacancies, (), "/v1/vacancies")


# --- sbb ----------------------------------------------------------------------------------------


def _write_sbb(
    directory: Path, fake: Faker, *, partner: str, enrolments: int, jobs: int, as_of: date
) -> Iterator[DemoFile]:
    rng = fake.rng
    directory.mkdir(parents=True, exist_ok=True)
    jobs_path = directory / f"{partner}-leerbanen.csv"
    job_ids: list[str] = []
    spoil = _invalid_positions(rng, jobs)
    invalid: list[int] = []
    with jobs_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, SBB_COLUMNS, delimiter=";", lineterminator="\n")
        writer.writeheader()
        for index in range(jobs):
            learning = index % 3 != 2
            sector = fake.sector(0.1)
            name, kvk = fake.company()
            ident = f"{partner}-{'lb' if learning else 'vac'}-{index + 1:06d}"
            row = {
                "soort": "leerbaan" if learning else "vacature",
                "id": ident,
                "publicatiedatum": fake.recent(as_of, 60).isoformat(),
                "bedrijf": name,
                "kvk": kvk,
                "titel": ("Leerling " if learning else "") + fake.job(sector).lower(),
                "niveau": str(rng.randint(1, 4)),
                "sector": fake.sector_word(sector),
                "gemeentecode": fake.municipality(),
                "uren_per_week": str(rng.choice((24, 32, 36, 38))),
                "aantal": str(rng.randint(1, 4)),
                "opleidbaar": "" if learning else fake.yes_no(0.4),
                "open_tot": (as_of + timedelta(days=rng.randint(14, 150))).isoformat(),
            }
            if learning:
                job_ids.append(ident)
                row["opleiding"] = fake.job(sector)
                row["crebo"] = str(rng.randint(25000, 25999))
            if index in spoil:
                row["soort" if len(invalid) % 2 == 0 else "uren_per_week"] = (
                    "stage" if len(invalid) % 2 == 0 else "0"
                )
                invalid.append(index + 2)
            writer.writerow(row)
    yield DemoFile("sbb", partner, f"{directory.name}/{jobs_path.name}", jobs, tuple(invalid))

    path = directory / f"{partner}-praktijkleren.jsonl"
    spoil = _invalid_positions(rng, enrolments)
    invalid = []
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for index in range(enrolments):
            start = as_of - timedelta(days=rng.randint(0, 720))
            level = rng.choice((EducationLevel.MBO_1, EducationLevel.MBO_2, EducationLevel.MBO_3))
            sector = fake.sector(0.1)
            name, kvk = fake.company()
            line: dict[str, Any] = {
                "soort": "praktijkleren",
                "id": f"{partner}-enr-{index + 1:06d}",
                "bsn": fake.bsn(),
                "bedrijf": name,
                "kvk": kvk,
                "opleiding": fake.job(sector),
                "niveau": level.value.removeprefix("MBO_"),
                "sector": fake.sector_word(sector),
                "startdatum": start.isoformat(),
            }
            if job_ids and rng.random() < 0.5:
                line["leerbaan_id"] = rng.choice(job_ids)
            finished = start + timedelta(days=rng.randint(180, 540))
            if finished < as_of:
                line["einddatum"] = finished.isoformat()
                line["resultaat"] = rng.choices(
                    ("diploma", "certificaat", "praktijkverklaring", "gestopt"), (4, 2, 3, 1)
                )[0]
            if index in spoil:
                if len(invalid) % 2 == 0:
                    line["bsn"] = fake.invalid_bsn()
                else:
                    line["resultaat"] = "diploma"
                    line.pop("einddatum", None)
                invalid.append(index + 1)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    yield DemoFile("sbb", partner, f"{directory.name}/{path.name}", enrolments, tuple(invalid))


# --- everything ------------------------------------------------------------------------------


def generate(
    out: Path,
    *,
    people: int,
    seed: int = 2021,
    partners: PartnerDirectory | None = None,
    as_of: date = DEMO_DATE,
    consent_share: float = CONSENT_SHARE,
    pseudonymise: Callable[[str], str] | None = None,
) -> DemoManifest:
    """Write every partner kind's input files for ``people`` people under ``out``.

    Also writes ``consents.jsonl``: which of the people consented to what (about
    ``consent_share`` of them; see :mod:`connectors.demo.consents`). No BSN goes into it;
    ``pseudonymise`` (e.g. ``Pseudonymiser(pseudonym_key(settings))``) adds the pseudonyms.
    """
    directory = partners if partners is not None else load_partners()
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    fake = Faker(rng)
    files: list[DemoFile] = []
    counts = {kind: round(people * share) for kind, share in _SHARES.items()}
    counts[PartnerKind.SBB] = max(
        0, people - sum(v for k, v in counts.items() if k != PartnerKind.SBB)
    )

    for partner in directory.of_kind(PartnerKind.UWV)[:1]:
        path = out / "uwv" / f"{partner.id}-ww-instroom.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = counts[PartnerKind.UWV]
        invalid = _write_uwv(path, fake, rows, as_of)
        files.append(DemoFile("uwv", partner.id, f"uwv/{path.name}", rows, invalid))

    gemeenten = directory.of_kind(PartnerKind.GEMEENTE)
    for partner, rows in zip(
        gemeenten, _split(counts[PartnerKind.GEMEENTE], len(gemeenten) or 1), strict=False
    ):
        path = out / "gemeente" / f"{partner.id}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        written = write_gemeente_csv(
            path, rows=rows, seed=rng.randint(0, 2**31), region=partner.region, as_of=as_of
        )
        files.append(
            DemoFile("gemeente", partner.id, f"gemeente/{path.name}", rows, written.invalid_lines)
        )

    socials = directory.of_kind(PartnerKind.SOCIAL_PARTNER)
    shares = _split(counts[PartnerKind.SOCIAL_PARTNER], len(socials) or 1)
    for partner, employees in zip(socials, shares, strict=False):
        files += _write_notices(
            out / "social_partners" / partner.id,
            fake,
            partner=partner.id,
            employees=employees,
            vacancies=max(1, people // 20),
            as_of=as_of,
        )

    for partner in directory.of_kind(PartnerKind.SBB)[:1]:
        files += _write_sbb(
            out / "sbb",
            fake,
            partner=partner.id,
            enrolments=counts[PartnerKind.SBB],
            jobs=max(3, people // 10),
            as_of=as_of,
        )

    consents = generate_consents(
        out,
        tuple(files),
        seed=seed,
        partners=directory,
        pseudonymise=pseudonymise,
        share=consent_share,
    )
    manifest = DemoManifest(
        seed=seed, people=people, as_of=as_of.isoformat(), files=tuple(files), consents=consents
    )
    manifest.save(out)
    return manifest
