"""Random but plausible people, places and jobs, from one seeded random generator."""

from __future__ import annotations

import random
from datetime import date, timedelta

from connectors.common.vocab import EDUCATION_LEVELS, LANGUAGE_LEVELS, SECTORS
from connectors.demo.words import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    JOBS,
    PREFIXES,
    STREETS,
)
from schemas.regions import Region, municipality_table
from schemas.vocabulary import EducationLevel, LanguageLevel, Sector

__all__ = ["Faker", "eleven_test_digit"]

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)
_EDUCATION: tuple[tuple[EducationLevel, int], ...] = (
    (EducationLevel.NONE, 4),
    (EducationLevel.VMBO, 12),
    (EducationLevel.MBO_1, 6),
    (EducationLevel.MBO_2, 20),
    (EducationLevel.MBO_3, 15),
    (EducationLevel.MBO_4, 15),
    (EducationLevel.HAVO_VWO, 8),
    (EducationLevel.HBO, 14),
    (EducationLevel.WO, 6),
)
_LANGUAGE: tuple[tuple[LanguageLevel, int], ...] = (
    (LanguageLevel.NATIVE, 62),
    (LanguageLevel.C1, 8),
    (LanguageLevel.B2, 10),
    (LanguageLevel.B1, 10),
    (LanguageLevel.A2, 7),
    (LanguageLevel.A1, 3),
)


def eleven_test_digit(first_eight: str) -> int | None:
    """The ninth digit that makes a BSN pass the eleven-test (None if there is none)."""
    total = sum(int(d) * w for d, w in zip(first_eight, _WEIGHTS, strict=True))
    digit = total % 11
    return None if digit == 10 else digit


class Faker:
    """Synthetic data from ``rng``; BSNs are unique per instance and pass the eleven-test."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._bsns: set[str] = set()
        table = municipality_table()
        self.municipalities = sorted(table)
        self.by_region: dict[Region, list[str]] = {}
        for code in self.municipalities:
            self.by_region.setdefault(table[code], []).append(code)

    def bsn(self) -> str:
        while True:
            first = f"{self.rng.randint(1_000_000, 99_999_999):08d}"
            digit = eleven_test_digit(first)
            bsn = f"{first}{digit}"
            if digit is not None and bsn not in self._bsns:
                self._bsns.add(bsn)
                return bsn

    def invalid_bsn(self) -> str:
        """Nine digits that fail the eleven-test."""
        valid = self.bsn()
        return valid[:8] + str((int(valid[8]) + 1 + self.rng.randint(0, 7)) % 10)

    def name(self) -> tuple[str, str, str]:
        """(given names, prefix, family name)."""
        return (
            self.rng.choice(GIVEN_NAMES),
            self.rng.choice(PREFIXES),
            self.rng.choice(FAMILY_NAMES),
        )

    def born(self, as_of: date, youngest: int, oldest: int, *, peak: int | None = None) -> date:
        """A birth date for an age in [youngest, oldest] (triangular around ``peak``)."""
        mode = peak if peak is not None else (youngest + oldest) / 2
        age = self.rng.triangular(youngest, oldest + 0.999, mode)
        return as_of - timedelta(days=int(age * 365.25))

    def recent(self, as_of: date, days: int) -> date:
        return as_of - timedelta(days=self.rng.randint(0, days))

    def municipality(self, region: Region | None = None) -> str:
        pool = self.by_region[region] if region is not None else self.municipalities
        return self.rng.choice(pool)

    def sector(self, shrinking_share: float = 0.3) -> Sector:
        shrinking = [s for s in Sector if s.shrinking]
        other = [s for s in Sector if not s.shrinking]
        return self.rng.choice(shrinking if self.rng.random() < shrinking_share else other)

    def sector_word(self, sector: Sector) -> str:
        return SECTORS.label(sector)

    def job(self, sector: Sector) -> str:
        return self.rng.choice(JOBS[sector])

    def education(self, *, young: bool = False) -> EducationLevel:
        levels, weights = zip(*_EDUCATION, strict=True)
        level: EducationLevel = self.rng.choices(levels, weights)[0]
        if young and level in (EducationLevel.HBO, EducationLevel.WO):
            return self.rng.choice((EducationLevel.MBO_2, EducationLevel.HAVO_VWO))
        return level

    def education_word(self, level: EducationLevel) -> str:
        return EDUCATION_LEVELS.label(level)

    def language(self) -> LanguageLevel:
        levels, weights = zip(*_LANGUAGE, strict=True)
        level: LanguageLevel = self.rng.choices(levels, weights)[0]
        return level

    def language_word(self, level: LanguageLevel) -> str:
        return LANGUAGE_LEVELS.label(level) if level is LanguageLevel.NATIVE else level.value

    def street(self) -> tuple[str, str, str]:
        """(street, house number, postal code)."""
        number = str(self.rng.randint(1, 250)) + self.rng.choice(("", "", "", "A", "-2", "-1"))
        letters = "".join(self.rng.choice("ABCDEGHJKLMNPRSTVWXZ") for _ in range(2))
        return self.rng.choice(STREETS), number, f"{self.rng.randint(1011, 9999)} {letters}"

    def phone(self) -> str:
        return f"06-{self.rng.randint(10_000_000, 99_999_999)}"

    def email(self, given: str, family: str) -> str:
        domain = self.rng.choice(("example.nl", "voorbeeld.nl", "mail.example"))
        return f"{given.lower()}.{family.lower().replace(' ', '')}@{domain}"

    def company(self) -> tuple[str, str]:
        """(name, KvK number)."""
        name = f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(FAMILY_NAMES)} "
        return name + self.rng.choice(
            COMPANY_SUFFIXES
        ), f"{self.rng.randint(10_000_000, 99_999_999)}"

    def yes_no(self, probability: float) -> str:
        return "ja" if self.rng.random() < probability else "nee"
