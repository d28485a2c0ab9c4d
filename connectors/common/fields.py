"""Reading the fields of one row: typed getters that collect every problem of the row.

::

    f = Fields(row.data)
    bsn = f.bsn("BSN")
    born = f.date("Geboortedatum", dutch=True)
    f.check()                         # RowRejected with every problem found

Getters return None for a missing or invalid value and note the problem, so one pass
reports all bad fields of a row. Validation is about the partner's format (required
fields, dates, numbers, known words, the BSN eleven-test, known CBS municipality codes);
business rules (menu card, consent) are the router's. :func:`build` makes a canonical
model and turns a pydantic error into a :class:`RowRejected` naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from pydantic import ValidationError

from connectors.common.errors import FieldProblem, RowRejected
from connectors.common.vocab import Vocabulary
from schemas.identifiers import bsn_digits, is_valid_bsn
from schemas.models import CanonicalRecord
from schemas.models.enums import DeadLetterReason
from schemas.regions import Region, municipality_table, unknown_municipality

__all__ = ["Fields", "at_midnight", "build", "parse_date"]

T = TypeVar("T", bound=Enum)
M = TypeVar("M", bound=CanonicalRecord)

_TRUE = frozenset({"ja", "j", "yes", "y", "true", "1", "waar"})
_FALSE = frozenset({"nee", "n", "no", "false", "0", "onwaar"})
_DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MUNICIPALITY = re.compile(r"^(?:GM)?(\d{1,4})$", re.IGNORECASE)


def at_midnight(day: dt.date) -> dt.datetime:
    """``day`` at 00:00 UTC: the deterministic ``occurred_at`` of a row dated ``day``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def parse_date(text: str, *, dutch: bool) -> dt.date:
    """``dd-mm-jjjj`` (``dutch``) or ISO ``jjjj-mm-dd``; ValueError says what was expected."""
    match = (_DUTCH_DATE if dutch else _ISO_DATE).match(text.strip())
    if not match:
        raise ValueError(
            f"{text!r} is not a date in the form {'dd-mm-jjjj' if dutch else 'jjjj-mm-dd'}"
        )
    if dutch:
        day, month, year = (int(g) for g in match.groups())
    else:
        year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not an existing date") from None


class Fields:
    """Typed access to one row's fields, collecting problems."""

    def __init__(self, data: Mapping[str, Any], *, prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix
        self.problems: list[FieldProblem] = []

    # --- plumbing ---------------------------------------------------------------------------

    def name(self, field: str) -> str:
        return f"{self.prefix}{field}"

    def fail(
        self,
        field: str | None,
        reason: str,
        code: DeadLetterReason = DeadLetterReason.SCHEMA_INVALID,
    ) -> None:
        """Note a problem with ``field`` (None: the row as a whole)."""
        self.problems.append(FieldProblem(self.name(field) if field else None, reason, code))

    def check(self) -> None:
        """Raise RowRejected if any problem was noted."""
        if self.problems:
            raise RowRejected(self.problems)

    def nested(self, field: str, data: Any, index: int | None = None) -> Fields | None:
        """Fields of a nested object (``adres``, ``werkervaring[2]``), sharing problems."""
        where = f"{field}[{index}]" if index is not None else field
        if not isinstance(data, Mapping):
            self.fail(where, f"must be an object, not {type(data).__name__}")
            return None
        child = Fields(data, prefix=f"{self.name(where)}.")
        child.problems = self.problems
        return child

    def raw(self, field: str) -> Any:
        """The value as given; empty strings count as missing (None)."""
        value = self.data.get(field)
        if isinstance(value, str) and not value.strip():
            return None
        return value

    # --- scalars -----------------------------------------------------------------------------

    def text(self, field: str, *, required: bool = False, max_length: int = 500) -> str | None:
        value = self.raw(field)
        if value is None:
            if required:
                self.fail(field, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(field, f"must be text, not {type(value).__name__}")
            return None
        text = str(value).strip()
        if len(text) > max_length:
            self.fail(field, f"is longer than {max_length} characters")
            return None
        return text

    def date(self, field: str, *, required: bool = False, dutch: bool = False) -> dt.date | None:
        text = self.text(field, required=required)
        if text is None:
            return None
        try:
            return parse_date(text, dutch=dutch)
        except ValueError as exc:
            self.fail(field, str(exc))
            return None

    def date_any(self, field: str, *, required: bool = False) -> dt.date | None:
        """ISO ``jjjj-mm-dd`` or ``dd-mm-jjjj``."""
        text = self.text(field, required=required)
        if text is None:
            return None
        for dutch in (False, True):
            try:
                return parse_date(text, dutch=dutch)
            except ValueError:
                continue
        self.fail(field, f"{text!r} is not a date (jjjj-mm-dd or dd-mm-jjjj)")
        return None

    def boolean(self, field: str, *, required: bool = False) -> bool | None:
        value = self.raw(field)
        if value is None:
            if required:
                self.fail(field, "is required (ja/nee)")
            return None
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        self.fail(field, f"{value!r} is not ja/nee (or true/false)")
        return None

    def integer(
        self, field: str, *, required: bool = False, minimum: int = 0, maximum: int = 2**31 - 1
    ) -> int | None:
        value = self.raw(field)
        if value is None:
            if required:
                self.fail(field, "is required")
            return None
        if isinstance(value, bool):
            self.fail(field, "must be a whole number, not true/false")
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(field, f"{value!r} is not a whole number")
            return None
        if not minimum <= number <= maximum:
            self.fail(field, f"{number} is outside {minimum}..{maximum}")
            return None
        return number

    def euro_cents(self, field: str, *, required: bool = False) -> int | None:
        """An amount in euros (``1250``, ``1250.50``, ``"1.250,50"``) as whole cents."""
        value = self.raw(field)
        if value is None:
            if required:
                self.fail(field, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(field, f"must be an amount, not {type(value).__name__}")
            return None
        text = str(value).strip().replace("€", "").strip()
        if "," in text:  # Dutch notation: 1.250,50
            text = text.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(text)
            if not amount.is_finite():
                raise InvalidOperation(text)
            if amount < 0 or amount != amount.quantize(Decimal("0.01")):
                self.fail(field, f"{value!r} must be positive with at most two decimals")
                return None
            cents = int(amount * 100)
        except (InvalidOperation, ValueError, OverflowError):  # NaN, Infinity, 1e999999
            self.fail(field, f"{value!r} is not an amount in euros")
            return None
        if cents > 2**63 - 1:
            self.fail(field, f"{value!r} is more than any amount in euros")
            return None
        return cents

    def choice(self, field: str, vocabulary: Vocabulary[T], *, required: bool = False) -> T | None:
        text = self.text(field, required=required)
        if text is None:
            return None
        found = vocabulary.lookup(text)
        if found is None:
            self.fail(
                field, f"{text!r} is not a known {vocabulary.name} (e.g. {vocabulary.examples()})"
            )
        return found

    def choices(self, field: str, vocabulary: Vocabulary[T], *, separator: str = "|") -> list[T]:
        """A list (JSON array, or text separated by ``separator``) of known words."""
        value = self.raw(field)
        if value is None:
            return []
        items: list[Any]
        if isinstance(value, list):
            items = value
        elif isinstance(value, str):
            items = [part for part in value.split(separator) if part.strip()]
        else:
            self.fail(field, f"must be a list, not {type(value).__name__}")
            return []
        found: list[T] = []
        for index, item in enumerate(items):
            member = vocabulary.lookup(str(item)) if isinstance(item, str) else None
            if member is None:
                self.fail(
                    f"{field}[{index}]",
                    f"{item!r} is not a known {vocabulary.name} (e.g. {vocabulary.examples()})",
                )
            elif member not in found:
                found.append(member)
        return found

    def items(self, field: str) -> list[Any]:
        """A JSON array (missing = empty)."""
        value = self.raw(field)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(field, f"must be a list, not {type(value).__name__}")
            return []
        return value

    # --- identifiers ---------------------------------------------------------------------------

    def bsn(self, field: str) -> str | None:
        """A citizen service number: 8 or 9 digits passing the eleven-test (required)."""
        text = self.text(field, required=True)
        if text is None:
            return None
        try:
            bsn = bsn_digits(text)
        except ValueError as exc:
            self.fail(field, str(exc), DeadLetterReason.BSN_INVALID)
            return None
        if not is_valid_bsn(bsn):
            self.fail(field, "fails the eleven-test (elfproef)", DeadLetterReason.BSN_INVALID)
            return None
        return bsn

    def municipality(self, field: str, *, required: bool = True) -> tuple[str, Region] | None:
        """A CBS municipality code (``0363``, ``363`` or ``GM0363``) and its region."""
        text = self.text(field, required=required)
        if text is None:
            return None
        match = _MUNICIPALITY.match(text)
        if not match:
            self.fail(field, f"{text!r} is not a CBS municipality code (4 digits, e.g. 0363)")
            return None
        code = match.group(1).zfill(4)
        region = municipality_table().get(code)
        if region is None:
            self.fail(
                field,
                unknown_municipality(code),
                DeadLetterReason.MUNICIPALITY_UNKNOWN,
            )
            return None
        return code, region


def build(model: type[M], **values: Any) -> M:
    """``model(**values)``; a pydantic error becomes RowRejected naming the field."""
    try:
        return model(**values)
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(str(p) for p in err["loc"]) or None, err["msg"])
            for err in exc.errors()
        ]
        raise RowRejected(problems) from exc
