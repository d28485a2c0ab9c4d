"""Dutch first: the gettext catalogue is complete, and language, dates and amounts are
chosen and written the way docs/i18n.md says.

The completeness test extracts the texts from the code exactly as ``python3 dev.py
i18n`` does (``babel.cfg``, the syntax-tree extractor of :mod:`hub.i18n`) and demands a
Dutch translation of every one, with the same ``{fields}``; and that the checked-in
template is the extraction of today's code, so a text added without running the task
fails here rather than showing up in English on a Dutch page.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from consent.labels import LABELS, label
from consent.model import ConsentStatus
from hub.i18n import (
    LANGUAGES,
    _,
    format_date,
    format_datetime,
    format_money,
    format_number,
    language,
    negotiate,
    po_path,
)
from schemas.vocabulary import Purpose

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "hub" / "locale" / "rmt_hub.pot"
Key = tuple[str | None, str | tuple[str, ...]]


def _extracted() -> dict[Key, list[str]]:
    """Every message of the code: (context, msgid or (singular, plural)) -> where."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
    found: dict[Key, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        key: Key = (context, tuple(message) if isinstance(message, list | tuple) else message)
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def _catalogue(path: Path) -> dict[Key, str | tuple[str, ...]]:
    with path.open("rb") as source:
        catalogue = read_po(source)
    out: dict[Key, str | tuple[str, ...]] = {}
    for m in catalogue:
        if not m.id:
            continue
        msgid = tuple(m.id) if isinstance(m.id, list | tuple) else m.id
        text = tuple(m.string) if isinstance(m.string, list | tuple) else m.string
        out[m.context, msgid] = "" if m.fuzzy else text
    return out


def _fields(text: str | tuple[str, ...]) -> set[str]:
    texts = text if isinstance(text, tuple) else (text,)
    return {name for t in texts for _lit, name, _spec, _conv in string.Formatter().parse(t) if name}


def test_the_code_has_texts_to_translate() -> None:
    found = _extracted()
    assert len(found) > 300
    # _() inside an f-string is found too (Babel's own extractor misses those on 3.11)
    assert (None, "Skip to content") in found
    assert ("consent status", "GIVEN") in found


def test_every_text_of_the_pages_has_a_dutch_translation() -> None:
    dutch = _catalogue(po_path("nl"))
    missing, wrong_fields = [], []
    for key, where in sorted(_extracted().items(), key=str):
        text = dutch.get(key)
        if not text or (isinstance(text, tuple) and not all(text)):
            missing.append(f"{key[1]!r} ({where[0]})")
        elif _fields(text) != _fields(key[1]):
            wrong_fields.append(f"{key[1]!r}: {text!r}")
    assert not missing, "untranslated (run python3 dev.py i18n, translate):\n" + "\n".join(missing)
    assert not wrong_fields, "translations with other {fields}:\n" + "\n".join(wrong_fields)


def test_the_template_is_extracted_from_todays_code() -> None:
    template = set(_catalogue(POT))
    code = set(_extracted())
    assert code - template == set(), "run python3 dev.py i18n: new texts are not in the template"
    assert template - code == set(), "run python3 dev.py i18n: the template has texts the code lost"


def test_every_code_of_the_labelled_vocabularies_has_a_label() -> None:
    for vocabulary, marked in LABELS.items():
        assert set(marked) == {m.value for m in vocabulary}, vocabulary.__name__
    with language("nl"):
        assert label(ConsentStatus.WITHDRAWN) == "ingetrokken"
        assert label(Purpose.MATCHING_PLACEMENT) == "bemiddeling en plaatsing"
    with language("en"):
        assert label(ConsentStatus.WITHDRAWN) == "WITHDRAWN"  # English shows the code


@pytest.mark.parametrize(
    ("query", "header", "cookie", "expected"),
    [
        (None, None, None, "nl"),
        (None, "en-GB,en;q=0.9", None, "en"),
        (None, "de-DE,de;q=0.9", None, "nl"),  # neither: Dutch
        (None, "de;q=1, en;q=0.5, nl;q=0.8", None, "nl"),
        (None, "en;q=0, nl;q=0.1", None, "nl"),
        (None, "*", None, "nl"),
        ("en", "nl", None, "en"),  # ?lang= wins
        ("EN", None, None, "en"),
        ("fr", "en", None, "en"),  # an unsupported ?lang= is ignored
        (None, "en", "nl", "nl"),  # an earlier choice wins over the header
        ("en", None, "nl", "en"),
    ],
)
def test_the_language_is_negotiated(
    query: str | None, header: str | None, cookie: str | None, expected: str
) -> None:
    assert negotiate(query, header, cookie) == expected


def test_dutch_dates_and_amounts() -> None:
    with language("nl"):
        assert format_date(date(2026, 12, 7)) == "7 december 2026"
        # a no-break space between the sign and the amount, as Babel (CLDR) writes it
        assert format_money(1234.56) == "€\u00a01.234,56"
        assert format_money(1234.4, cents=False) == "€\u00a01.234"
        assert format_number(1234567) == "1.234.567"
        assert format_number(12.5) == "12,5"
        moment = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
        assert format_datetime(moment) == "7 december 2026 14:05 UTC"
        assert _("Sign in") == "Aanmelden"
    with language("en"):
        assert format_date(date(2026, 12, 7)) == "7 December 2026"
        assert format_money(1234.56) == "€1,234.56"
        assert _("Sign in") == "Sign in"


def test_the_default_language_is_dutch() -> None:
    assert LANGUAGES[0] == "nl"
    assert _("Sign in") == "Aanmelden"
    with language(None):
        assert _("Sign out") == "Afmelden"
    with language("xx"):
        assert _("Sign out") == "Afmelden"


def test_no_compiled_catalogue_is_checked_in() -> None:
    """Compiled at import (docs/decisions/0022): a .mo beside the .po could go stale."""
    assert not list((ROOT / "hub" / "locale").rglob("*.mo"))
    assert re.search(r'"Language: nl\\n"', po_path("nl").read_text(encoding="utf-8"))
