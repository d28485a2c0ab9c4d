"""Partner words for the hub's vocabulary: Dutch labels (and the Avro symbols) to enums.

Exports say ``horeca``, ``mbo 2`` or ``bijstand``; the canonical records say
``HOSPITALITY``, ``MBO_2`` and ``BIJSTAND``. Every table accepts the Avro symbol too.
Matching ignores case, accents on ``é``/``ë``, and ``-``/``_``/``/`` versus spaces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Generic, TypeVar

from schemas.menu_card import Instrument
from schemas.models.enums import ArrangementStatus, Credential, HealthNeed, ServiceStatus
from schemas.vocabulary import (
    BenefitStatus,
    EducationLevel,
    JobSeekerCategory,
    LanguageLevel,
    Sector,
)

__all__ = [
    "ARRANGEMENT_STATUSES",
    "BENEFITS",
    "CREDENTIALS",
    "EDUCATION_LEVELS",
    "HEALTH_NEEDS",
    "INSTRUMENTS",
    "JOB_SEEKER_CATEGORIES",
    "LANGUAGE_LEVELS",
    "SECTORS",
    "SERVICE_STATUSES",
    "Vocabulary",
    "normalise_word",
]

T = TypeVar("T", bound=Enum)
_SPACES = re.compile(r"[\s_\-/]+")
_ACCENTS = str.maketrans("éëèêïöüáà", "eeeeiouaa")


def normalise_word(text: str) -> str:
    """Lower case, accents off, separators to one space: ``Mbo-2`` -> ``mbo 2``."""
    return _SPACES.sub(" ", text.strip().lower().translate(_ACCENTS)).strip()


class Vocabulary(Generic[T]):
    """Words -> enum members; the members' own symbols are always accepted."""

    def __init__(self, enum: type[T], labels: Mapping[str, T], name: str) -> None:
        self.enum = enum
        self.name = name
        words: dict[str, T] = {normalise_word(str(m.value)): m for m in enum}
        words.update({normalise_word(label): member for label, member in labels.items()})
        self._words = words
        self._labels = dict(labels)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and normalise_word(word) in self._words

    def lookup(self, word: str) -> T | None:
        """The member ``word`` names, or None."""
        return self._words.get(normalise_word(word))

    def label(self, member: T) -> str:
        """The first Dutch label of ``member`` (its symbol when it has none)."""
        for label, candidate in self._labels.items():
            if candidate == member:
                return label
        return str(member.value)

    def examples(self, limit: int = 6) -> str:
        """A few accepted words, for error messages."""
        labels = list(self._labels) or [str(m.value) for m in self.enum]
        shown = ", ".join(labels[:limit])
        return shown + (", ..." if len(labels) > limit else "")


SECTORS: Vocabulary[Sector] = Vocabulary(
    Sector,
    {
        "horeca": Sector.HOSPITALITY,
        "cultuur": Sector.CULTURE,
        "sport en recreatie": Sector.SPORT_RECREATION,
        "recreatie": Sector.SPORT_RECREATION,
        "luchtvaart": Sector.AVIATION,
        "sierteelt": Sector.ORNAMENTAL_HORTICULTURE,
        "verhuur en zakelijke diensten": Sector.RENTAL_BUSINESS_SERVICES,
        "uitzendbranche": Sector.RENTAL_BUSINESS_SERVICES,
        "reisbranche": Sector.RENTAL_BUSINESS_SERVICES,
        "detailhandel": Sector.RETAIL,
        "zorg": Sector.HEALTHCARE,
        "zorg en welzijn": Sector.HEALTHCARE,
        "onderwijs": Sector.EDUCATION,
        "bouw": Sector.CONSTRUCTION,
        "techniek en ict": Sector.TECHNOLOGY_ICT,
        "ict": Sector.TECHNOLOGY_ICT,
        "transport en logistiek": Sector.LOGISTICS,
        "logistiek": Sector.LOGISTICS,
        "industrie": Sector.MANUFACTURING,
        "landbouw": Sector.AGRICULTURE,
        "openbaar bestuur": Sector.PUBLIC_ADMINISTRATION,
        "overheid": Sector.PUBLIC_ADMINISTRATION,
        "financiele dienstverlening": Sector.FINANCIAL_SERVICES,
        "overig": Sector.OTHER,
    },
    "sector",
)

EDUCATION_LEVELS: Vocabulary[EducationLevel] = Vocabulary(
    EducationLevel,
    {
        "geen": EducationLevel.NONE,
        "basisonderwijs": EducationLevel.NONE,
        "vmbo": EducationLevel.VMBO,
        "mbo 1": EducationLevel.MBO_1,
        "entree": EducationLevel.MBO_1,
        "mbo 2": EducationLevel.MBO_2,
        "mbo 3": EducationLevel.MBO_3,
        "mbo 4": EducationLevel.MBO_4,
        "havo vwo": EducationLevel.HAVO_VWO,
        "havo": EducationLevel.HAVO_VWO,
        "vwo": EducationLevel.HAVO_VWO,
        "hbo": EducationLevel.HBO,
        "wo": EducationLevel.WO,
    },
    "education level",
)

LANGUAGE_LEVELS: Vocabulary[LanguageLevel] = Vocabulary(
    LanguageLevel,
    {"moedertaal": LanguageLevel.NATIVE, "nt1": LanguageLevel.NATIVE},
    "language level",
)

BENEFITS: Vocabulary[BenefitStatus] = Vocabulary(
    BenefitStatus,
    {
        "geen": BenefitStatus.NONE,
        "ww": BenefitStatus.WW,
        "bijstand": BenefitStatus.BIJSTAND,
        "participatiewet": BenefitStatus.BIJSTAND,
        "wajong": BenefitStatus.WAJONG,
        "wajong 2010": BenefitStatus.WAJONG,
        "wajong 2015": BenefitStatus.WAJONG,
        "oude wajong": BenefitStatus.WAJONG,
        "wia": BenefitStatus.WIA,
        "wga": BenefitStatus.WIA,
        "iva": BenefitStatus.WIA,
        "anders": BenefitStatus.OTHER,
    },
    "benefit",
)

JOB_SEEKER_CATEGORIES: Vocabulary[JobSeekerCategory] = Vocabulary(
    JobSeekerCategory,
    {
        "bijstand": JobSeekerCategory.BIJSTAND_APPLICANT,
        "bijstandsaanvrager": JobSeekerCategory.BIJSTAND_APPLICANT,
        "jongere": JobSeekerCategory.YOUNG_PERSON,
        "zzp": JobSeekerCategory.SELF_EMPLOYED,
        "zelfstandige": JobSeekerCategory.SELF_EMPLOYED,
        "geen uitkering": JobSeekerCategory.NO_BENEFIT,
        "nug": JobSeekerCategory.NO_BENEFIT,
        "ww": JobSeekerCategory.WW_ENTRANT,
        "dreigend werkloos": JobSeekerCategory.THREATENED_EMPLOYEE,
    },
    "target group",
)

HEALTH_NEEDS: Vocabulary[HealthNeed] = Vocabulary(
    HealthNeed,
    {
        "werkplekaanpassing": HealthNeed.WORKPLACE_ADAPTATION,
        "jobcoach": HealthNeed.JOB_COACHING,
        "aangepaste uren": HealthNeed.ADJUSTED_HOURS,
        "vervoer": HealthNeed.TRANSPORT,
        "psychische ondersteuning": HealthNeed.MENTAL_HEALTH_SUPPORT,
        "anders": HealthNeed.OTHER,
    },
    "health need",
)

INSTRUMENTS: Vocabulary[Instrument] = Vocabulary(
    Instrument,
    {
        "workshop": Instrument.WORKSHOP,
        "succesvol naar ander werk": Instrument.SUCCESSFULLY_TO_OTHER_WORK,
        "breder zoekgedrag": Instrument.BROADER_SEARCH_BEHAVIOUR,
        "sollicitatiehulp": Instrument.APPLICATION_HELP,
        "loopbaanbegeleiding": Instrument.CAREER_GUIDANCE,
        "scholing": Instrument.SCHOOLING,
        "praktijkleren mbo": Instrument.PRACTICAL_LEARNING_MBO,
        "begeleiding tijdens scholing": Instrument.SCHOOLING_GUIDANCE,
        "grensoverschrijdende bemiddeling": Instrument.CROSS_BORDER_PLACEMENT,
        "ontmoetingen met werkgevers": Instrument.EMPLOYER_MEETINGS,
        "jobcoach": Instrument.JOB_COACH,
        "werkplekaanpassing": Instrument.WORKPLACE_ADAPTATION,
        "schuldhulpverlening": Instrument.DEBT_COUNSELLING,
        "wmo": Instrument.WMO_SERVICES,
        "taalonderwijs": Instrument.LANGUAGE_EDUCATION,
        "maatwerkbudget": Instrument.TAILORED_BUDGET,
        "no riskpolis": Instrument.NO_RISK_POLICY,
        "loondispensatie": Instrument.WAGE_DISPENSATION,
        "loonkostensubsidie": Instrument.WAGE_COST_SUBSIDY,
        "sw bedrijf": Instrument.SOCIAL_WORK_COMPANY,
    },
    "instrument",
)

SERVICE_STATUSES: Vocabulary[ServiceStatus] = Vocabulary(
    ServiceStatus,
    {
        "gepland": ServiceStatus.PLANNED,
        "gestart": ServiceStatus.STARTED,
        "afgerond": ServiceStatus.FINISHED,
        "geannuleerd": ServiceStatus.CANCELLED,
    },
    "service status",
)

CREDENTIALS: Vocabulary[Credential] = Vocabulary(
    Credential,
    {
        "diploma": Credential.DIPLOMA,
        "certificaat": Credential.CERTIFICATE,
        "praktijkverklaring": Credential.PRACTICE_STATEMENT,
    },
    "credential",
)

ARRANGEMENT_STATUSES: Vocabulary[ArrangementStatus] = Vocabulary(
    ArrangementStatus,
    {
        "concept": ArrangementStatus.DRAFT,
        "akkoord": ArrangementStatus.AGREED,
        "actief": ArrangementStatus.ACTIVE,
        "afgerond": ArrangementStatus.FINISHED,
        "geannuleerd": ArrangementStatus.CANCELLED,
    },
    "arrangement status",
)
