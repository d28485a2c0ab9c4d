"""What counts as a direct identifier of the input, and finding one in text or bytes.

:func:`identifiers_of` collects, from the person records partners published (read back
from their outboxes), every BSN, name, street, postal code, date of birth, e-mail address,
phone number and client pseudonym; :func:`find` lists those found in a text, plus any
nine-digit number that passes the BSN eleven-test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.identifiers import is_valid_bsn
from schemas.models import CanonicalRecord
from schemas.regions import Region

__all__ = ["Identifiers", "find", "identifiers_of", "nine_digit_numbers"]

_NINE = re.compile(r"(?<!\d)\d{9}(?!\d)")
_WORDS_OF_THE_HUB = {w for r in Region for w in re.findall(r"\w+", r.cbs_name)}
"""Words that are also region names (a family name "Groot" and "Groot Amsterdam")."""


@dataclass
class Identifiers:
    bsns: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    streets: set[str] = field(default_factory=set)
    postal_codes: set[str] = field(default_factory=set)
    births: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    pseudonyms: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return sum(len(v) for v in vars(self).values())


def nine_digit_numbers(text: str) -> set[str]:
    """Every nine-digit number of ``text`` (the BSNs of input files, valid or not)."""
    return set(_NINE.findall(text))


def identifiers_of(records: Iterable[CanonicalRecord | None]) -> Identifiers:
    found = Identifiers()
    for record in records:
        if record is None:
            continue
        pseudonym = getattr(record, "client_pseudonym", None)
        if pseudonym:
            found.pseudonyms.add(str(pseudonym))
        bsn = getattr(record, "bsn", None)
        if bsn:
            found.bsns.add(str(bsn))
        for attr in ("given_name", "family_name"):
            value = getattr(record, attr, None)
            if value:
                found.names |= {w for w in re.findall(r"\w{3,}", value) if w[0].isupper()}
        born = getattr(record, "date_of_birth", None)
        if born is not None:
            found.births |= {
                born.isoformat(),
                born.strftime("%d-%m-%Y"),
                born.strftime("%Y%m%d"),
                born.strftime("%d/%m/%Y"),
            }
        contact = getattr(record, "contact", None)
        if contact is not None:
            if contact.street:
                found.streets.add(contact.street)
            if contact.postal_code:
                code = contact.postal_code
                found.postal_codes |= {code, code.replace(" ", "")}
            if contact.email:
                found.emails.add(contact.email.lower())
            if contact.phone:
                found.phones |= {contact.phone, re.sub(r"\D", "", contact.phone)}
    found.names -= _WORDS_OF_THE_HUB
    return found


_ESCAPE = re.compile(r"\\x[0-9a-fA-F]{2}|\\[ntr]")
"""A byte escape in a repr (``\\x0cFatima``), as clients log raw values: a separator."""
_LETTERS = re.compile(r"[^\W\d_]+")
_DIGITS = re.compile(r"\d{8,}")
_ALONE = re.compile(r"(?<![\d.])\d{8,9}(?![\d.])")
"""Eight or nine digits of their own: not part of a longer number or a decimal."""
_DATES = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}[-/]\d{2}[-/]\d{4}")
_POSTAL = re.compile(r"\d{4} ?[A-Z]{2}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HEX = re.compile(r"[0-9a-f]{32,}")


def _windows(runs: set[str], size: int) -> set[str]:
    return {run[i : i + size] for run in runs for i in range(len(run) - size + 1)}


def find(
    text: str,
    ids: Identifiers,
    *,
    pseudonyms: bool = True,
    bsn_like: bool = True,
    in_numbers: bool = True,
) -> list[str]:
    """Every identifier of ``ids`` in ``text`` (names and streets as words of their own,
    with their capital; also right after a byte escape); ``bsn_like``: also any nine-digit
    number passing the eleven-test (one in eleven do: not for long debug logs);
    ``pseudonyms``: also the client pseudonyms (or their hex part); ``in_numbers``: also
    BSNs and dates of birth inside longer runs of digits (bytes, where a field may touch
    another; not for logs, whose floats and timestamps make long runs that hold any
    eight digits sooner or later: ``since_epoch=7.096260197002266`` holds 19700226)."""
    runs = set(_DIGITS.findall(text)) if in_numbers else set(_ALONE.findall(text))
    nines = _windows(runs, 9)
    found = []
    if bsn_like:
        found += [f"BSN-like {n}" for n in sorted(set(_NINE.findall(text))) if is_valid_bsn(n)]
    found += [f"BSN {b}" for b in sorted(ids.bsns & nines)]
    cleaned = _ESCAPE.sub(" ", text)
    words = set(_LETTERS.findall(cleaned))
    found += [f"name {n}" for n in sorted(ids.names & words)]
    for street in sorted(ids.streets):
        parts = street.split()
        if set(parts) <= words and re.search(
            rf"(?<![^\W\d_]){re.escape(street)}(?![^\W\d_])", cleaned
        ):
            found.append(f"street {street}")
    codes = set(_POSTAL.findall(text))
    found += [f"postal code {c}" for c in sorted(ids.postal_codes & codes)]
    dates = set(_DATES.findall(text)) | _windows(runs, 8)
    found += [f"date of birth {d}" for d in sorted(ids.births & dates)]
    addresses = {a.lower() for a in _EMAIL.findall(cleaned)}
    found += [f"e-mail {e}" for e in sorted(ids.emails) if any(e in a for a in addresses)]
    found += [f"phone {p}" for p in sorted(ids.phones) if p in text]
    if pseudonyms:
        hexes = _windows(set(_HEX.findall(text.lower())), 32)
        for pseudonym in sorted(ids.pseudonyms):
            if pseudonym in text or pseudonym.removeprefix("psn-") in hexes:
                found.append(f"client pseudonym {pseudonym}")
    return found
