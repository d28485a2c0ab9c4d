"""The domain vocabulary shared by schemas, consent rules and the router.

These enums mirror the Avro enums of the same name in ``schemas/*.avsc`` (a test keeps
them equal). Values are the Avro symbols. Plain Python, no broker, no I/O.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

__all__ = [
    "SPECIAL_CATEGORIES",
    "BenefitStatus",
    "DataCategory",
    "EducationLevel",
    "JobSeekerCategory",
    "LanguageLevel",
    "PartnerKind",
    "Purpose",
    "Sector",
]


class PartnerKind(StrEnum):
    """The kinds of party in a regional mobility team."""

    UWV = "UWV"
    GEMEENTE = "GEMEENTE"
    SOCIAL_PARTNER = "SOCIAL_PARTNER"
    SBB = "SBB"
    EDUCATION = "EDUCATION"


class DataCategory(StrEnum):
    """Category of a field's data: the unit of consent (schema property ``category``)."""

    META = "meta"  # technical, non-personal: event id, timestamps, publishing partner
    PSEUDONYM = "pseudonym"  # the client pseudonym (indirect identifier, routing key)
    IDENTITY = "identity"  # citizen service number, name, date of birth
    CONTACT = "contact"  # address, phone, e-mail
    RESIDENCE = "residence"  # municipality of residence and the region derived from it
    LABOUR_MARKET_PROFILE = "labour_market_profile"  # competences, sectors, work history
    EDUCATION = "education"  # education level, starting qualification, language level
    BENEFIT_STATUS = "benefit_status"  # WW, bijstand, Wajong, none
    HEALTH = "health"  # work limitation, banenafspraak status, health needs (special)
    DEBTS = "debts"  # debt problems and counselling
    INTAKE = "intake"  # intake, selection decision and its reasons
    ARRANGEMENT = "arrangement"  # the personal arrangement, its instruments and costs
    OUTCOME = "outcome"  # placement in work, schooling finished, other outcomes
    BUSINESS = "business"  # organisation data: vacancies, staff surplus (not personal)
    CONSENT = "consent"  # the consent state itself
    STATISTICAL = "statistical"  # generalised, non-identifying monitor attributes


SPECIAL_CATEGORIES: frozenset[DataCategory] = frozenset({DataCategory.HEALTH})
"""GDPR art. 9 data: flows only under consent that names the category explicitly."""


class Purpose(StrEnum):
    """Why data is processed; consent is given per purpose."""

    INTAKE_DIAGNOSIS = "INTAKE_DIAGNOSIS"
    ARRANGEMENT = "ARRANGEMENT"  # drawing up and carrying out the personal arrangement
    MATCHING_PLACEMENT = "MATCHING_PLACEMENT"
    SCHOOLING = "SCHOOLING"
    WARM_HANDOVER = "WARM_HANDOVER"
    RESPONSIBILITY_TRANSFER = "RESPONSIBILITY_TRANSFER"
    BUDGET_ADMINISTRATION = "BUDGET_ADMINISTRATION"  # UWV as cashier
    MONITORING = "MONITORING"  # national monitor, pseudonymised only


YOUNG_PERSON_AGE_LIMIT = 27
"""A young person (jongere) is under 27; the selection criteria use the same boundary."""


def age_on(born: date, day: date) -> int:
    """Age in whole years on ``day`` of a person born on ``born``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class JobSeekerCategory(StrEnum):
    """Category of job seeker; decides the first-responsible party."""

    THREATENED_EMPLOYEE = "THREATENED_EMPLOYEE"  # incl. banenafspraak target group
    WW_ENTRANT = "WW_ENTRANT"
    YOUNG_PERSON = "YOUNG_PERSON"  # under 27
    BIJSTAND_APPLICANT = "BIJSTAND_APPLICANT"
    SELF_EMPLOYED = "SELF_EMPLOYED"
    NO_BENEFIT = "NO_BENEFIT"  # orienting on work without a benefit

    @property
    def first_responsible(self) -> PartnerKind:
        """The party kind that takes the initiative (docs/domain.md, first-responsible party)."""
        if self is JobSeekerCategory.THREATENED_EMPLOYEE:
            return PartnerKind.SOCIAL_PARTNER
        if self is JobSeekerCategory.WW_ENTRANT:
            return PartnerKind.UWV
        return PartnerKind.GEMEENTE


class BenefitStatus(StrEnum):
    NONE = "NONE"
    WW = "WW"
    BIJSTAND = "BIJSTAND"
    WAJONG = "WAJONG"
    WIA = "WIA"
    OTHER = "OTHER"


class Sector(StrEnum):
    """Sector of (last) work; the first six are the shrinking sectors of the brief."""

    HOSPITALITY = "HOSPITALITY"
    CULTURE = "CULTURE"
    SPORT_RECREATION = "SPORT_RECREATION"
    AVIATION = "AVIATION"
    ORNAMENTAL_HORTICULTURE = "ORNAMENTAL_HORTICULTURE"
    RENTAL_BUSINESS_SERVICES = "RENTAL_BUSINESS_SERVICES"  # incl. temp and travel agencies
    RETAIL = "RETAIL"
    HEALTHCARE = "HEALTHCARE"
    EDUCATION = "EDUCATION"
    CONSTRUCTION = "CONSTRUCTION"
    TECHNOLOGY_ICT = "TECHNOLOGY_ICT"
    LOGISTICS = "LOGISTICS"
    MANUFACTURING = "MANUFACTURING"
    AGRICULTURE = "AGRICULTURE"
    PUBLIC_ADMINISTRATION = "PUBLIC_ADMINISTRATION"
    FINANCIAL_SERVICES = "FINANCIAL_SERVICES"
    OTHER = "OTHER"

    @property
    def shrinking(self) -> bool:
        return self in _SHRINKING


_SHRINKING = frozenset(
    {
        Sector.HOSPITALITY,
        Sector.CULTURE,
        Sector.SPORT_RECREATION,
        Sector.AVIATION,
        Sector.ORNAMENTAL_HORTICULTURE,
        Sector.RENTAL_BUSINESS_SERVICES,
    }
)


class EducationLevel(StrEnum):
    """Highest completed education (Dutch system)."""

    NONE = "NONE"  # none or primary only
    VMBO = "VMBO"
    MBO_1 = "MBO_1"  # entree: no starting qualification
    MBO_2 = "MBO_2"
    MBO_3 = "MBO_3"
    MBO_4 = "MBO_4"
    HAVO_VWO = "HAVO_VWO"
    HBO = "HBO"
    WO = "WO"

    @property
    def starting_qualification(self) -> bool:
        """Startkwalificatie: havo/vwo diploma or mbo level 2 or higher."""
        return self not in {EducationLevel.NONE, EducationLevel.VMBO, EducationLevel.MBO_1}


class LanguageLevel(StrEnum):
    """Oral Dutch, CEFR scale; below B2 counts in selection."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"
    NATIVE = "NATIVE"
