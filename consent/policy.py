"""The policy matrix: partner kind x purpose -> the data categories that may ever flow.

It is data (``consent/policy_matrix.json``), loaded and checked here. Consent can only
narrow it: a decision allows a category only when the matrix allows it for the
recipient's kind and the purpose *and* an active consent covers it; everything else is
denied. The file's own rules, checked on load:

* every partner kind x purpose cell is written out (``[]`` means never), with a ``why``;
* ``implied_categories`` (``meta``, ``pseudonym``) travel with any consented flow
  without being named, but never a special category;
* ``statistical`` only for MONITORING, and MONITORING gets nothing but ``meta`` and
  ``statistical`` (the national monitor needs no direct identifiers);
* ``business`` (vacancies, staff surplus) is not personal data: never decided by consent.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from consent.errors import PolicyError
from schemas.vocabulary import SPECIAL_CATEGORIES, DataCategory, PartnerKind, Purpose

__all__ = ["MONITORING_ONLY", "NEVER_BY_CONSENT", "PolicyCell", "PolicyMatrix", "load_policy"]

MONITORING_ONLY: frozenset[DataCategory] = frozenset({DataCategory.META, DataCategory.STATISTICAL})
"""All the MONITORING purpose may ever get."""
NEVER_BY_CONSENT: frozenset[DataCategory] = frozenset({DataCategory.BUSINESS})
"""Not personal data; not in any cell."""


class PolicyCell(BaseModel):
    """One cell: the categories that may ever flow, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: frozenset[DataCategory]
    why: str = Field(min_length=1)


class PolicyMatrix(BaseModel):
    """The whole matrix, checked on construction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    about: str = ""
    implied_categories: frozenset[DataCategory]
    kinds: dict[PartnerKind, dict[Purpose, PolicyCell]]

    @model_validator(mode="after")
    def _rules(self) -> PolicyMatrix:
        special = self.implied_categories & SPECIAL_CATEGORIES
        if special:
            raise ValueError(f"implied_categories: special category {sorted(special)} is implied")
        for kind in PartnerKind:
            cells = self.kinds.get(kind)
            if cells is None:
                raise ValueError(f"kinds.{kind}: missing (write every partner kind out)")
            for purpose in Purpose:
                cell = cells.get(purpose)
                where = f"kinds.{kind}.{purpose}"
                if cell is None:
                    raise ValueError(f"{where}: missing (write [] for 'never')")
                if cell.categories & NEVER_BY_CONSENT:
                    raise ValueError(f"{where}: 'business' is not personal data")
                if purpose is Purpose.MONITORING:
                    if not cell.categories <= MONITORING_ONLY:
                        extra = sorted(cell.categories - MONITORING_ONLY)
                        raise ValueError(
                            f"{where}: MONITORING may only get meta, statistical: {extra}"
                        )
                elif DataCategory.STATISTICAL in cell.categories:
                    raise ValueError(f"{where}: 'statistical' is for MONITORING only")
        return self

    def allowed(self, kind: PartnerKind, purpose: Purpose) -> frozenset[DataCategory]:
        """The categories that may ever flow to a partner of ``kind`` for ``purpose``."""
        return self.kinds[kind][purpose].categories

    def why(self, kind: PartnerKind, purpose: Purpose) -> str:
        return self.kinds[kind][purpose].why

    def as_table(self) -> dict[str, dict[str, list[str]]]:
        """kind -> purpose -> sorted categories (JSON-friendly)."""
        return {
            kind.value: {p.value: sorted(c.categories) for p, c in cells.items()}
            for kind, cells in self.kinds.items()
        }


def _parse(text: str, source: str) -> PolicyMatrix:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"policy matrix {source}: invalid JSON at line {exc.lineno} column {exc.colno}"
        ) from exc
    try:
        return PolicyMatrix.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise PolicyError(
            f"policy matrix {source}: {where + ': ' if where else ''}{message}"
        ) from exc


_BUILT_IN: PolicyMatrix | None = None


def load_policy(path: Path | None = None) -> PolicyMatrix:
    """The policy matrix from ``path``, or the built-in ``consent/policy_matrix.json``."""
    global _BUILT_IN  # noqa: PLW0603 - the built-in matrix is parsed once per process
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"policy matrix {path}: {exc.strerror or exc}") from exc
        return _parse(text, str(path))
    if _BUILT_IN is None:
        text = resources.files("consent").joinpath("policy_matrix.json").read_text("utf-8")
        _BUILT_IN = _parse(text, "built-in consent/policy_matrix.json")
    return _BUILT_IN
