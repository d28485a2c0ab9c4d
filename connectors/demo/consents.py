"""Demo consents: who of the generated people consented to what, and granting it.

:func:`generate_consents` (run by :func:`~connectors.demo.generator.generate`) decides,
deterministically from the seed, for every valid person row of the UWV, gemeente and
social-partner exports, whether the person consented (about 80%) and to what, and
writes one JSON line per consent to ``consents.jsonl``:

* the **controller** is the partner that exported the person, the first-responsible
  party of their job-seeker category (UWV for WW entrants, the gemeente for bijstand,
  young people, self-employed and no benefit, the social partner for threatened
  employees);
* the **recipients** are the other partner kinds of their region: the gemeenten of
  the person's labour-market region, UWV (national), SBB (most people) and the schools
  of the region (some people);
* the **purposes** are ARRANGEMENT and MATCHING_PLACEMENT, often INTAKE_DIAGNOSIS and
  SCHOOLING, sometimes WARM_HANDOVER;
* the **data categories** are what the policy matrix allows for those recipients and
  purposes, never ``debts``, sometimes without ``contact``; ``health`` only for about
  a third of them, on the legal basis EXPLICIT_CONSENT - so the demo also shows fields
  withheld from the other people's records.

No BSN is written. A line names the person by the export file and row it came from
(``"person": {"file": ..., "row": ...}``: the line number, as in ``invalid_lines``; the
item number for a notice) and, only when ``generate`` got a pseudonymiser, the
pseudonym as ``subject``. :func:`grant_demo_consents` computes the pseudonym at feed
time with the settings' key (``HUB_PSEUDONYM_KEY``), exactly as the partner SDK does
when it imports the row, and grants each consent (the BSN travels only as a
``SecretStr`` into the consent service's encrypted vault). Consents already given
(same controller and terms, still active) are not granted twice.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from connectors.common.vocab import JOB_SEEKER_CATEGORIES
from consent.model import (
    CollectionMethod,
    ConsentRecord,
    ConsentTerms,
    LegalBasis,
    Notice,
    Recipient,
)
from consent.policy import PolicyMatrix, load_policy
from hub.config import HubSettings
from hub.ids import ClientPseudonym, PartnerId
from hub.sdk.pseudonym import Pseudonymiser, pseudonym_key
from schemas.regions import Region, municipality_table
from schemas.vocabulary import DataCategory, JobSeekerCategory, PartnerKind, Purpose

if TYPE_CHECKING:
    from connectors.demo.generator import DemoFile
    from consent.service import ConsentService
    from topics import PartnerDirectory

__all__ = [
    "CONSENTS",
    "DEMO_ACTOR",
    "DEMO_NOTICE",
    "DemoConsent",
    "generate_consents",
    "grant_demo_consents",
    "load_demo_consents",
]

CONSENTS = "consents.jsonl"
"""The demo consents, one JSON object a line, next to ``manifest.json``."""
DEMO_ACTOR = "privacy_officer:demo"
"""Who records the demo consents (its role is all the logs say)."""
DEMO_NOTICE = Notice(version="rmt-privacy-2026.1", url="https://example.org/rmt/privacy")
CONSENT_SHARE = 0.8
HEALTH_SHARE = 0.35
VALID_DAYS = 365

_CORE: tuple[DataCategory, ...] = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
    DataCategory.INTAKE,
    DataCategory.ARRANGEMENT,
    DataCategory.OUTCOME,
    DataCategory.CONSENT,
)
_METHODS = (
    CollectionMethod.IN_PERSON_SIGNED,
    CollectionMethod.DIGITAL_SIGNED,
    CollectionMethod.PAPER_FORM,
    CollectionMethod.IN_PERSON_VERBAL,
)
_BSN_FIELD = {"uwv": "bsn", "gemeente": "BSN", "social_partners": "bsn"}


@dataclass(frozen=True)
class DemoConsent:
    """One line of ``consents.jsonl``: a person (by file and row) and their terms."""

    file: str  # relative to the demo directory
    row: int  # line number (CSV: incl. header; JSONL: 1-based), or the notice's item number
    terms: dict[str, Any]  # ConsentTerms without subject and validity (JSON form)
    valid_days: int = VALID_DAYS
    subject: str | None = None  # only when the generator got a pseudonymiser

    def to_json(self) -> str:
        line: dict[str, Any] = {"person": {"file": self.file, "row": self.row}}
        if self.subject is not None:
            line["subject"] = self.subject
        line["terms"] = self.terms
        line["valid_days"] = self.valid_days
        return json.dumps(line, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> DemoConsent:
        data = json.loads(text)
        return cls(
            file=str(data["person"]["file"]),
            row=int(data["person"]["row"]),
            terms=dict(data["terms"]),
            valid_days=int(data.get("valid_days", VALID_DAYS)),
            subject=data.get("subject"),
        )

    def consent_terms(self, subject: str, *, now: datetime) -> ConsentTerms:
        """The terms for ``subject``, valid from ``now`` for ``valid_days`` days."""
        return ConsentTerms.model_validate(
            {
                **self.terms,
                "subject": subject,
                "valid_from": now,
                "valid_until": now + timedelta(days=self.valid_days),
            }
        )


# --- the people of the exports ---------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    file: str
    row: int
    controller: str
    category: JobSeekerCategory
    municipality: str
    bsn: str


def _people(directory: Path, file: DemoFile) -> Iterator[_Person]:
    """The valid person rows of one export file (invalid rows are skipped)."""
    path = directory / file.path
    bad = set(file.invalid_lines)
    if file.kind == "uwv":
        with path.open(encoding="utf-8") as stream:
            for number, text in enumerate(stream, 1):
                if number in bad:
                    continue
                line = json.loads(text)
                yield _Person(
                    file.path,
                    number,
                    file.partner,
                    JobSeekerCategory.WW_ENTRANT,
                    str(line["gemeentecode"]),
                    str(line["bsn"]),
                )
    elif file.kind == "gemeente":
        with path.open(encoding="utf-8", newline="") as stream:
            for number, row in enumerate(csv.DictReader(stream, delimiter=";"), 2):
                category = JOB_SEEKER_CATEGORIES.lookup(row.get("Doelgroep") or "")
                if number in bad or category is None:
                    continue
                yield _Person(
                    file.path, number, file.partner, category, row["Gemeentecode"], row["BSN"]
                )
    elif file.kind == "social_partners" and file.endpoint != "/v1/vacancies":
        body = json.loads(path.read_text("utf-8"))
        for number, employee in enumerate(body.get("werknemers", []), 1):
            if number in bad:
                continue
            yield _Person(
                file.path,
                number,
                file.partner,
                JobSeekerCategory.THREATENED_EMPLOYEE,
                str(employee["gemeentecode"]),
                str(employee["bsn"]),
            )


# --- deciding who consents to what ----------------------------------------------------------


def _terms(
    rng: random.Random,
    person: _Person,
    controller_kind: PartnerKind,
    region: Region | None,
    policy: PolicyMatrix,
) -> dict[str, Any] | None:
    recipients: list[Recipient] = []
    if controller_kind is not PartnerKind.GEMEENTE and region is not None:
        recipients.append(Recipient(partner_kind=PartnerKind.GEMEENTE, region=region))
    if controller_kind is not PartnerKind.UWV:
        recipients.append(Recipient(partner_kind=PartnerKind.UWV))
    if rng.random() < 0.7:
        recipients.append(Recipient(partner_kind=PartnerKind.SBB))
    if region is not None and rng.random() < 0.3:
        recipients.append(Recipient(partner_kind=PartnerKind.EDUCATION, region=region))
    purposes = [Purpose.ARRANGEMENT, Purpose.MATCHING_PLACEMENT]
    for purpose, share in (
        (Purpose.INTAKE_DIAGNOSIS, 0.6),
        (Purpose.SCHOOLING, 0.6),
        (Purpose.WARM_HANDOVER, 0.3),
    ):
        if rng.random() < share:
            purposes.append(purpose)
    wanted = [c for c in _CORE if c is not DataCategory.CONTACT or rng.random() >= 0.15]
    health = rng.random() < HEALTH_SHARE
    if health:
        wanted.append(DataCategory.HEALTH)
    kinds = {r.partner_kind for r in recipients if r.partner_kind is not None}
    allowed = frozenset().union(*(policy.allowed(k, p) for k in kinds for p in purposes))
    categories = [c for c in wanted if c in allowed]
    if not recipients or not categories:
        return None
    explicit = DataCategory.HEALTH in categories
    terms = ConsentTerms(
        subject=ClientPseudonym("psn-placeholder"),
        controller=PartnerId(person.controller),
        job_seeker_category=person.category,
        recipients=tuple(recipients),
        purposes=tuple(purposes),
        data_categories=tuple(categories),
        legal_basis=LegalBasis.EXPLICIT_CONSENT if explicit else LegalBasis.CONSENT,
        notice=DEMO_NOTICE,
        collection_method=rng.choice(_METHODS),
    )
    return terms.model_dump(
        mode="json", exclude={"subject", "valid_from", "valid_until"}, exclude_none=True
    )


def generate_consents(
    out: Path,
    files: tuple[DemoFile, ...],
    *,
    seed: int,
    partners: PartnerDirectory,
    pseudonymise: Callable[[str], str] | None = None,
    share: float = CONSENT_SHARE,
    policy: PolicyMatrix | None = None,
) -> int:
    """Write ``consents.jsonl`` for the people of ``files``; return how many consents.

    Reads the export files just written (so their bytes do not depend on it); its own
    random generator is seeded from ``seed``. ``pseudonymise`` (e.g. the SDK's
    :class:`~hub.sdk.pseudonym.Pseudonymiser`) adds each person's pseudonym.
    """
    rng = random.Random(f"consents:{seed}")  # noqa: S311 - synthetic data, not secrets
    matrix = policy or load_policy()
    table = municipality_table()
    kinds: dict[str, PartnerKind] = {p.id: p.kind for p in partners}
    written = 0
    with (out / CONSENTS).open("w", encoding="utf-8", newline="\n") as stream:
        for file in files:
            for person in _people(out, file):
                if rng.random() >= share or person.controller not in kinds:
                    continue
                terms = _terms(
                    rng, person, kinds[person.controller], table.get(person.municipality), matrix
                )
                if terms is None:
                    continue
                subject = pseudonymise(person.bsn) if pseudonymise is not None else None
                stream.write(DemoConsent(file.path, person.row, terms, subject=subject).to_json())
                stream.write("\n")
                written += 1
    return written


# --- granting -----------------------------------------------------------------------------------


def load_demo_consents(directory: Path) -> list[DemoConsent]:
    """The consents of a demo directory (none when it has no ``consents.jsonl``)."""
    path = directory / CONSENTS
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as stream:
        return [DemoConsent.from_json(line) for line in stream if line.strip()]


def _bsns(directory: Path, consents: list[DemoConsent]) -> dict[tuple[str, int], str]:
    """(file, row) -> BSN, read from the export files the consents refer to."""
    from connectors.demo.generator import DemoManifest  # noqa: PLC0415 - import cycle

    wanted = {(c.file, c.row) for c in consents}
    files = {c.file for c in consents}
    found: dict[tuple[str, int], str] = {}
    for file in DemoManifest.load(directory).files:
        if file.path in files:
            for person in _people(directory, file):
                if (person.file, person.row) in wanted:
                    found[person.file, person.row] = person.bsn
    return found


def _same(record: ConsentRecord, terms: ConsentTerms, now: datetime) -> bool:
    fields = ("controller", "recipients", "purposes", "data_categories", "legal_basis")
    return record.is_active(now) and all(getattr(record, f) == getattr(terms, f) for f in fields)


def grant_demo_consents(settings: HubSettings, directory: Path, service: ConsentService) -> int:
    """Grant the demo consents of ``directory``; return how many were granted now.

    Pseudonyms are computed with the settings' key, as the partner SDK does. A consent
    already given (active, same controller and terms) is skipped, so feeding a demo
    directory twice grants nothing the second time.
    """
    consents = load_demo_consents(directory)
    if not consents:
        return 0
    need_bsn = any(c.subject is None for c in consents)
    bsns = _bsns(directory, consents)
    pseudonymise = Pseudonymiser(pseudonym_key(settings)) if need_bsn else None
    granted = 0
    for consent in consents:
        bsn = bsns.get((consent.file, consent.row))
        if consent.subject is not None:
            subject = consent.subject
        elif bsn is not None and pseudonymise is not None:
            subject = pseudonymise(bsn)
        else:
            raise ValueError(f"{CONSENTS}: {consent.file} has no person at row {consent.row}")
        now = service.clock()
        terms = consent.consent_terms(subject, now=now)
        if any(_same(r, terms, now) for r in service.for_subject(terms.subject)):
            continue
        service.grant(terms, actor=DEMO_ACTOR, bsn=SecretStr(bsn) if bsn is not None else None)
        granted += 1
    return granted
