"""Projection: a record reduced to the fields whose data categories a recipient may see.

Every field of a canonical message record carries a data category in its schema
(:meth:`schemas.loader.SchemaSet.field_categories`). A projection keeps the fields of the
allowed categories and sets every other field to null - the person records' schemas make
them nullable for exactly this - and names the withheld categories in
``withheld_categories``, so a recipient can tell *withheld* from *unknown*.

The envelope (``meta``) and the pseudonym always travel: they are implied by any consent
that applies (the policy matrix's ``implied_categories``), and without them the record
is useless. What was disclosed is described by :class:`Projection` (fields, categories),
which is what the audit records.

Plain Python: no Kafka, no faust.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from schemas.models import CanonicalRecord
from schemas.vocabulary import DataCategory

__all__ = ["ALWAYS", "Projection", "carried_categories", "has_data", "project"]

ALWAYS: frozenset[DataCategory] = frozenset({DataCategory.META, DataCategory.PSEUDONYM})
"""Categories that travel with any delivery: the envelope and the routing key."""
WITHHELD_FIELD = "withheld_categories"

R = TypeVar("R", bound=CanonicalRecord)


def has_data(value: Any) -> bool:
    """Whether a field value carries data (null and empty lists carry none)."""
    if value is None:
        return False
    return not (isinstance(value, list | tuple) and not value)


def carried_categories(
    record: CanonicalRecord, field_categories: Mapping[str, DataCategory]
) -> frozenset[DataCategory]:
    """The categories of the fields of ``record`` that carry data, plus the envelope."""
    found = set(ALWAYS)
    for name, category in field_categories.items():
        if category not in found and has_data(getattr(record, name, None)):
            found.add(category)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Projection:
    """A record as one recipient receives it, and what that discloses."""

    record: CanonicalRecord
    fields: tuple[str, ...]
    """Fields disclosed, in schema order: the envelope and pseudonym, and every field of
    an allowed category that carries data."""
    categories: frozenset[DataCategory]
    """Categories of the disclosed fields."""
    withheld: frozenset[DataCategory]
    """Categories the record carried that the recipient may not see."""


def project(
    record: R,
    allowed: frozenset[DataCategory],
    field_categories: Mapping[str, DataCategory],
) -> Projection:
    """``record`` with every field outside ``allowed`` (and the envelope) set to null."""
    allowed = allowed | ALWAYS
    withheld = carried_categories(record, field_categories) - allowed
    update: dict[str, Any] = {}
    fields: list[str] = []
    categories: set[DataCategory] = set()
    for name, category in field_categories.items():
        if name == WITHHELD_FIELD:
            continue
        value = getattr(record, name)
        if category in allowed:
            if category in ALWAYS or has_data(value):
                fields.append(name)
                categories.add(category)
        elif value is not None:
            update[name] = None
    if WITHHELD_FIELD in field_categories:
        update[WITHHELD_FIELD] = sorted(withheld)
        fields.append(WITHHELD_FIELD)
    projected = record.model_copy(update=update) if update else record
    return Projection(projected, tuple(fields), frozenset(categories), frozenset(withheld))
