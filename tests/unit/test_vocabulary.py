"""The Python vocabulary mirrors the Avro enums, and encodes the rules of the brief."""

from __future__ import annotations

from enum import StrEnum

import pytest

from schemas.loader import SchemaSet, load_schemas
from schemas.menu_card import (
    BANENAFSPRAAK_ONLY,
    TAILORED_BUDGET_CAP_CENTS,
    Instrument,
    InstrumentCluster,
)
from schemas.models import enums
from schemas.regions import REGION_NAMES, Region, municipality_table, region_of_municipality
from schemas.vocabulary import (
    SPECIAL_CATEGORIES,
    BenefitStatus,
    DataCategory,
    EducationLevel,
    JobSeekerCategory,
    LanguageLevel,
    PartnerKind,
    Purpose,
    Sector,
)

SHARED: tuple[type[StrEnum], ...] = (
    PartnerKind,
    Region,
    Instrument,
    InstrumentCluster,
    DataCategory,
    Purpose,
    JobSeekerCategory,
    BenefitStatus,
    Sector,
    EducationLevel,
    LanguageLevel,
)
LOCAL: tuple[type[StrEnum], ...] = tuple(getattr(enums, name) for name in enums.__all__)
MIRRORS = SHARED + LOCAL


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return load_schemas()


@pytest.mark.parametrize("enum", MIRRORS, ids=lambda e: e.__name__)
def test_python_enum_equals_avro_enum_in_order(schemas: SchemaSet, enum: type[StrEnum]) -> None:
    raw = schemas.raw(enum.__name__)
    assert raw["type"] == "enum"
    assert raw["symbols"] == [member.value for member in enum]


def test_every_avro_enum_has_a_python_mirror(schemas: SchemaSet) -> None:
    enums_ = [name for name in schemas.names() if schemas.kind(name) == "enum"]
    avro_enums = {name.rsplit(".", 1)[1] for name in enums_}
    assert avro_enums == {enum.__name__ for enum in MIRRORS}


def test_enum_defaults_are_symbols(schemas: SchemaSet) -> None:
    for name in schemas.names():
        raw = schemas.raw(name)
        if raw["type"] == "enum" and "default" in raw:
            assert raw["default"] in raw["symbols"], name


def test_data_category_values_are_lowercase_and_health_is_special() -> None:
    assert all(c.value == c.value.lower() for c in DataCategory)
    assert {DataCategory.HEALTH} == SPECIAL_CATEGORIES


def test_there_are_35_regions_and_every_one_has_municipalities() -> None:
    assert len(Region) == 35
    assert set(REGION_NAMES) == set(Region)
    table = municipality_table()
    assert len(table) == 342
    assert set(table.values()) == set(Region)
    for region in Region:
        assert Region.from_cbs_name(region.cbs_name) is region


def test_region_of_municipality_accepts_cbs_spellings() -> None:
    assert region_of_municipality("0363") is Region.GROOT_AMSTERDAM
    assert region_of_municipality("GM0599") is Region.RIJNMOND
    assert region_of_municipality("363") is Region.GROOT_AMSTERDAM
    with pytest.raises(KeyError, match="9999"):
        region_of_municipality("9999")


@pytest.mark.parametrize(
    ("category", "party"),
    [
        (JobSeekerCategory.THREATENED_EMPLOYEE, PartnerKind.SOCIAL_PARTNER),
        (JobSeekerCategory.WW_ENTRANT, PartnerKind.UWV),
        (JobSeekerCategory.YOUNG_PERSON, PartnerKind.GEMEENTE),
        (JobSeekerCategory.BIJSTAND_APPLICANT, PartnerKind.GEMEENTE),
        (JobSeekerCategory.SELF_EMPLOYED, PartnerKind.GEMEENTE),
        (JobSeekerCategory.NO_BENEFIT, PartnerKind.GEMEENTE),
    ],
)
def test_first_responsible_party(category: JobSeekerCategory, party: PartnerKind) -> None:
    assert category.first_responsible is party


def test_starting_qualification_is_mbo_2_or_havo_vwo_and_up() -> None:
    without = {level for level in EducationLevel if not level.starting_qualification}
    assert without == {EducationLevel.NONE, EducationLevel.VMBO, EducationLevel.MBO_1}


def test_shrinking_sectors_are_the_six_of_the_brief() -> None:
    assert {s for s in Sector if s.shrinking} == {
        Sector.HOSPITALITY,
        Sector.CULTURE,
        Sector.SPORT_RECREATION,
        Sector.AVIATION,
        Sector.ORNAMENTAL_HORTICULTURE,
        Sector.RENTAL_BUSINESS_SERVICES,
    }


def test_menu_card_clusters() -> None:
    clusters = {i: i.cluster for i in Instrument}
    assert set(clusters.values()) == set(InstrumentCluster)
    assert clusters[Instrument.DEBT_COUNSELLING] is InstrumentCluster.SUPPORTING_SERVICES
    assert clusters[Instrument.TAILORED_BUDGET] is InstrumentCluster.TAILORED_BUDGET
    assert {
        Instrument.NO_RISK_POLICY,
        Instrument.WAGE_DISPENSATION,
        Instrument.WAGE_COST_SUBSIDY,
        Instrument.SOCIAL_WORK_COMPANY,
    } == BANENAFSPRAAK_ONLY
    assert TAILORED_BUDGET_CAP_CENTS == 100_000
