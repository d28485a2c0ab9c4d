"""The 35 labour-market regions (arbeidsmarktregio's) and the municipality table.

A person is served in the region of their municipality of residence. The table is CBS
"Gebieden in Nederland 2026" (table 86247NED, Statistics Netherlands, CC BY 4.0),
shipped as ``schemas/reference/municipality_region_2026.json``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources

__all__ = [
    "REGION_NAMES",
    "Region",
    "municipality_table",
    "region_of_municipality",
    "source_attribution",
    "unknown_municipality",
]


class Region(StrEnum):
    """A labour-market region; the value is the Avro enum symbol."""

    ACHTERHOEK = "ACHTERHOEK"
    AMERSFOORT = "AMERSFOORT"
    DRECHTSTEDEN = "DRECHTSTEDEN"
    DRENTHE = "DRENTHE"
    FLEVOLAND = "FLEVOLAND"
    FOODVALLEY = "FOODVALLEY"
    FRIESLAND = "FRIESLAND"
    GOOI_EN_VECHTSTREEK = "GOOI_EN_VECHTSTREEK"
    GORINCHEM = "GORINCHEM"
    GRONINGEN = "GRONINGEN"
    GROOT_AMSTERDAM = "GROOT_AMSTERDAM"
    HAAGLANDEN = "HAAGLANDEN"
    HELMOND_DE_PEEL = "HELMOND_DE_PEEL"
    HOLLAND_RIJNLAND = "HOLLAND_RIJNLAND"
    MIDDEN_BRABANT = "MIDDEN_BRABANT"
    MIDDEN_GELDERLAND = "MIDDEN_GELDERLAND"
    MIDDEN_HOLLAND = "MIDDEN_HOLLAND"
    MIDDEN_LIMBURG = "MIDDEN_LIMBURG"
    MIDDEN_UTRECHT = "MIDDEN_UTRECHT"
    NOORD_HOLLAND_NOORD = "NOORD_HOLLAND_NOORD"
    NOORD_LIMBURG = "NOORD_LIMBURG"
    NOORDOOST_BRABANT = "NOORDOOST_BRABANT"
    REGIO_ZWOLLE = "REGIO_ZWOLLE"
    RIJK_VAN_NIJMEGEN = "RIJK_VAN_NIJMEGEN"
    RIJNMOND = "RIJNMOND"
    RIVIERENLAND = "RIVIERENLAND"
    TWENTE = "TWENTE"
    VELUWE_STEDENDRIEHOEK = "VELUWE_STEDENDRIEHOEK"
    WEST_BRABANT = "WEST_BRABANT"
    ZAANSTREEK_WATERLAND = "ZAANSTREEK_WATERLAND"
    ZEELAND = "ZEELAND"
    ZUID_HOLLAND_CENTRAAL = "ZUID_HOLLAND_CENTRAAL"
    ZUID_KENNEMERLAND_EN_IJMOND = "ZUID_KENNEMERLAND_EN_IJMOND"
    ZUID_LIMBURG = "ZUID_LIMBURG"
    ZUIDOOST_BRABANT = "ZUIDOOST_BRABANT"

    @property
    def cbs_name(self) -> str:
        """The region's name as CBS publishes it."""
        return REGION_NAMES[self]

    @classmethod
    def from_cbs_name(cls, name: str) -> Region:
        try:
            return _BY_NAME[name]
        except KeyError:
            raise ValueError(f"unknown labour-market region {name!r}") from None


REGION_NAMES: dict[Region, str] = {
    Region.ACHTERHOEK: "Achterhoek",
    Region.AMERSFOORT: "Amersfoort",
    Region.DRECHTSTEDEN: "Drechtsteden",
    Region.DRENTHE: "Drenthe",
    Region.FLEVOLAND: "Flevoland",
    Region.FOODVALLEY: "FoodValley",
    Region.FRIESLAND: "Friesland",
    Region.GOOI_EN_VECHTSTREEK: "Gooi en Vechtstreek",
    Region.GORINCHEM: "Gorinchem",
    Region.GRONINGEN: "Groningen",
    Region.GROOT_AMSTERDAM: "Groot Amsterdam",
    Region.HAAGLANDEN: "Haaglanden",
    Region.HELMOND_DE_PEEL: "Helmond-De Peel",
    Region.HOLLAND_RIJNLAND: "Holland Rijnland",
    Region.MIDDEN_BRABANT: "Midden-Brabant",
    Region.MIDDEN_GELDERLAND: "Midden-Gelderland",
    Region.MIDDEN_HOLLAND: "Midden-Holland",
    Region.MIDDEN_LIMBURG: "Midden-Limburg",
    Region.MIDDEN_UTRECHT: "Midden-Utrecht",
    Region.NOORD_HOLLAND_NOORD: "Noord-Holland Noord",
    Region.NOORD_LIMBURG: "Noord-Limburg",
    Region.NOORDOOST_BRABANT: "Noordoost-Brabant",
    Region.REGIO_ZWOLLE: "Regio Zwolle",
    Region.RIJK_VAN_NIJMEGEN: "Rijk van Nijmegen",
    Region.RIJNMOND: "Rijnmond",
    Region.RIVIERENLAND: "Rivierenland",
    Region.TWENTE: "Twente",
    Region.VELUWE_STEDENDRIEHOEK: "Veluwe Stedendriehoek",
    Region.WEST_BRABANT: "West-Brabant",
    Region.ZAANSTREEK_WATERLAND: "Zaanstreek/Waterland",
    Region.ZEELAND: "Zeeland",
    Region.ZUID_HOLLAND_CENTRAAL: "Zuid-Holland Centraal",
    Region.ZUID_KENNEMERLAND_EN_IJMOND: "Zuid-Kennemerland en IJmond",
    Region.ZUID_LIMBURG: "Zuid-Limburg",
    Region.ZUIDOOST_BRABANT: "Zuidoost-Brabant",
}
_BY_NAME = {name: region for region, name in REGION_NAMES.items()}
MUNICIPALITY_TABLE_YEAR = 2026
"""The year of the shipped CBS table (``reference/municipality_region_2026.json``)."""


@cache
def _reference() -> dict[str, object]:
    text = (
        resources.files("schemas")
        .joinpath(f"reference/municipality_region_{MUNICIPALITY_TABLE_YEAR}.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, object] = json.loads(text)
    return data


@cache
def municipality_table() -> dict[str, Region]:
    """CBS municipality code (4 digits, e.g. ``"0363"``) -> labour-market region."""
    raw = _reference()["municipality_region"]
    assert isinstance(raw, dict)
    return {code: Region.from_cbs_name(name) for code, name in raw.items()}


def region_of_municipality(code: str) -> Region:
    """The region of a CBS municipality code; ``KeyError`` names an unknown code."""
    table = municipality_table()
    normalised = code.strip().removeprefix("GM").zfill(4)
    try:
        return table[normalised]
    except KeyError:
        raise KeyError(f"unknown CBS municipality code {code!r}") from None


def unknown_municipality(what: str) -> str:
    """Why ``what`` (a code, or the field holding one) is refused: not in the shipped
    table, which has no successor list of merged municipalities (connectors/README.md)."""
    return (
        f"{what} is not in the CBS municipality table of {MUNICIPALITY_TABLE_YEAR}; it may be "
        "the historic code of a municipality that merged into another (gemeentelijke "
        "herindeling): use the code of the municipality the person lives in now"
    )


def source_attribution() -> str:
    """Attribution line for the shipped CBS table."""
    source = _reference()["source"]
    assert isinstance(source, dict)
    return f"{source['publisher']}, table {source['table']} ({source['title']})"
