"""Dutch first, English on request: gettext catalogues (Babel) for the pages people read.

The privacy officer console, the subject access report and the monitor report and
dashboard are written with English source texts marked for translation (``_()``,
``ngettext()``, ``pgettext()``; ``N_()`` / ``NP_()`` only mark a text that is
translated later). The Dutch texts are in the gettext catalogue
``hub/locale/nl/LC_MESSAGES/rmt_hub.po``, checked in; its template
``hub/locale/rmt_hub.pot`` is extracted from the code with Babel
(``python3 dev.py i18n``, docs/i18n.md). English needs no catalogue: it is the source.

**Compiled at import, in memory (a choice).** The ``.po`` file is read with Babel and
compiled to a gettext catalogue the first time a language is used, once per process
(a few hundred messages: milliseconds). No ``.mo`` file is built, installed or checked
in, so an editable install, a wheel and a source checkout behave the same and the
compiled catalogue can never be older than its source
(docs/decisions/0022-dutch-first-gettext.md).

**Which language.** :func:`negotiate`: ``?lang=nl|en`` first, then (in the console) the
language the officer chose before, then the ``Accept-Language`` header, else Dutch. A
request renders inside ``with language(lang):``; :func:`_` and the formatters read it
from a context variable, so the page functions take no extra argument.

**Dates and amounts** go through Babel's formatters in the page's language:
``7 december 2026``, ``€ 1.234,56`` (``7 December 2026``, ``€1,234.56`` in English).
"""

from __future__ import annotations

import ast
import functools
import gettext
import io
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from babel.core import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "NP_",
    "N_",
    "_",
    "current",
    "extract_ast",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "format_percent_of",
    "language",
    "negotiate",
    "ngettext",
    "pgettext",
    "po_path",
    "supported",
    "translations",
]

DOMAIN = "rmt_hub"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("nl", "en")
"""The languages of the pages: Dutch (the default), English (the source texts)."""
DEFAULT_LANGUAGE = "nl"
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}

_current: ContextVar[str] = ContextVar("rmt_hub_language", default=DEFAULT_LANGUAGE)


def po_path(lang: str) -> Path:
    """The checked-in catalogue of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: none, the source texts are English)."""
    path = po_path(lang)
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)  # a fuzzy entry is not a translation
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def supported(lang: str | None) -> str | None:
    """``lang`` as one of :data:`LANGUAGES` (``en-GB`` -> ``en``), or None."""
    if not lang:
        return None
    primary = lang.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def _accepted(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(
    query: str | None = None, accept_language: str | None = None, chosen: str | None = None
) -> str:
    """The page language: ``?lang=`` (``query``), then an earlier choice (``chosen``, a
    cookie), then the first supported language of ``Accept-Language``, else Dutch."""
    for explicit in (query, chosen):
        found = supported(explicit)
        if found:
            return found
    for tag in _accepted(accept_language or ""):
        found = supported(tag)
        if found:
            return found
    return DEFAULT_LANGUAGE


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Render in ``lang`` (unsupported or None: Dutch) inside the block."""
    chosen = supported(lang) or DEFAULT_LANGUAGE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def current() -> str:
    """The language pages are rendered in now (``nl`` or ``en``)."""
    return _current.get()


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, where ``context`` tells its meaning apart
    (``pgettext("consent status", "GIVEN")``)."""
    return translations(_current.get()).pgettext(context, message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Marks ``message`` for the catalogue; translate it later with :func:`_`."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:  # noqa: N802 - the gettext convention
    """Marks ``message`` with ``context`` for the catalogue; translate later with
    :func:`pgettext`."""
    return context, message


# --- formatters -----------------------------------------------------------------------------
def _locale() -> Locale:
    return Locale.parse(_LOCALES[_current.get()])


def format_date(value: date) -> str:
    """A day as people write it: ``7 december 2026`` / ``7 December 2026``."""
    return _babel_date(value, format="long", locale=_locale())


def format_datetime(value: datetime | None, empty: str = "-") -> str:
    """A moment in UTC: ``7 december 2026 14:05 UTC`` (``empty`` for None)."""
    if value is None:
        return empty
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return _babel_datetime(moment, "d MMMM y HH:mm 'UTC'", tzinfo=UTC, locale=_locale())


def format_money(euro: float, *, cents: bool = True) -> str:
    """An amount in euro: ``€ 1.234,56`` (``cents=False``: ``€ 1.235``); a no-break space
    keeps the sign with the amount."""
    if cents:
        return format_currency(euro, "EUR", locale=_locale())
    return format_currency(
        euro, "EUR", format="¤\u00a0#,##0", currency_digits=False, locale=_locale()
    )


def format_number(value: float, *, digits: int = 1) -> str:
    """A count or measure: ``1.234.567``, ``12,5`` (at most ``digits`` decimals)."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale())


def format_percent_of(share: float) -> str:
    """A share as a whole percentage: ``46%``."""
    return format_percent(share, locale=_locale())


# --- extraction -----------------------------------------------------------------------------
def extract_ast(
    fileobj: IO[bytes],
    keywords: Mapping[str, object],
    comment_tags: Collection[str],
    options: Mapping[str, object],
) -> Iterator[tuple[int, str, str | tuple[str | None, ...], list[str]]]:
    """A Babel extractor that reads the syntax tree, so it also finds ``_("...")`` inside
    an f-string (the tokenizer of Python 3.11, which Babel's own extractor uses, sees an
    f-string as one string). Registered in ``babel.cfg``; every call of a keyword whose
    arguments are literal strings is a message."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in keywords:
            continue
        args = tuple(
            a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
            for a in node.args
        )
        if len(args) == 1 and args[0] is not None:
            yield node.lineno, node.func.id, args[0], []
        elif len(args) > 1 and any(a is not None for a in args):
            yield node.lineno, node.func.id, args, []
