"""Schema compatibility: Confluent's modes over Apache Avro's reader/writer checker.

The verdict for every (reader, writer) pair comes from
:class:`avro.compatibility.ReaderWriterCompatibilityChecker`. That checker merges its
findings into sets and loses the path inside unions, so when it says *incompatible*
this module walks both schemas side by side (records, arrays, maps, union branches, the
same way Avro's schema resolution pairs them) and asks the checker again at each step,
to name the exact field and the rule broken, e.g.::

    TYPE_MISMATCH at field 'Person.age': the new schema has type int where version 1
    has string (BACKWARD_TRANSITIVE: the new schema must read data written with version 1)

Modes: ``BACKWARD`` (the new schema reads data written with the latest version),
``FORWARD`` (the latest version reads data written with the new schema), ``FULL``
(both), their ``_TRANSITIVE`` forms (against every earlier version, not only the latest)
and ``NONE``. The default is ``BACKWARD_TRANSITIVE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityType,
    lookup_writer_field,
    schema_name_equals,
)
from avro.schema import (
    ArraySchema,
    EnumSchema,
    FixedSchema,
    MapSchema,
    NamedSchema,
    RecordSchema,
    Schema,
    UnionSchema,
)

from hub.registry.errors import InvalidCompatibilityLevelError

__all__ = [
    "DEFAULT_LEVEL",
    "NEW_SCHEMA",
    "CompatibilityLevel",
    "Incompatibility",
    "check_compatibility",
    "check_pair",
]

NEW_SCHEMA = "the new schema"
"""How messages name the schema being checked."""


class CompatibilityLevel(StrEnum):
    """Confluent's compatibility modes."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """Checked against every earlier version, not only the latest."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """The new schema must read data written with the earlier version(s)."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """The earlier version(s) must read data written with the new schema."""
        return self.value.startswith(("FORWARD", "FULL"))

    @classmethod
    def parse(cls, text: object) -> CompatibilityLevel:
        """A level from its name (any case); InvalidCompatibilityLevelError otherwise."""
        if isinstance(text, str):
            try:
                return cls(text.strip().upper())
            except ValueError:
                pass
        raise InvalidCompatibilityLevelError(
            f"Invalid compatibility level {text!r}. Valid values are: "
            + ", ".join(level.value for level in cls)
        )


DEFAULT_LEVEL = CompatibilityLevel.BACKWARD_TRANSITIVE


@dataclass(frozen=True)
class Incompatibility:
    """One reason why ``reader`` cannot read data written with ``writer``.

    ``rule`` is the Avro rule broken (Confluent's error type names, e.g.
    ``READER_FIELD_MISSING_DEFAULT_VALUE``), ``field`` the dotted field path from the
    top-level type (``[]`` marks array items, ``{}`` map values), ``reader`` and
    ``writer`` name the schemas ("the new schema", "version 2") and ``level`` the mode
    that required the check.
    """

    rule: str
    field: str
    detail: str
    reader: str
    writer: str
    level: CompatibilityLevel

    def __str__(self) -> str:
        return (
            f"{self.rule} at field '{self.field}': {self.detail} "
            f"({self.level.value}: {self.reader} must read data written with {self.writer})"
        )


def _checker() -> Any:
    return ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]


def _verdict(reader: Schema, writer: Schema) -> bool:
    """True when Avro's checker finds the pair compatible (fresh memo per question)."""
    result = _checker().get_compatibility(reader, writer)
    return result.compatibility is SchemaCompatibilityType.compatible


def _describe(schema: Schema) -> str:
    if isinstance(schema, NamedSchema):
        return f"{schema.type} {schema.fullname}"
    if isinstance(schema, ArraySchema):
        return f"array<{_describe(schema.items)}>"
    if isinstance(schema, MapSchema):
        return f"map<{_describe(schema.values)}>"
    if isinstance(schema, UnionSchema):
        return "union[" + ", ".join(_describe(s) for s in schema.schemas) + "]"
    return str(schema.type)


class _Explainer:
    """Walks a reader and a writer schema together, collecting precise findings."""

    def __init__(self, reader_label: str, writer_label: str, level: CompatibilityLevel) -> None:
        self.reader_label = reader_label
        self.writer_label = writer_label
        self.level = level
        self._active: set[tuple[int, int]] = set()  # pairs being walked: recursion guard

    def _issue(self, rule: str, path: str, detail: str) -> Incompatibility:
        return Incompatibility(rule, path, detail, self.reader_label, self.writer_label, self.level)

    def walk(self, reader: Schema, writer: Schema, path: str) -> list[Incompatibility]:
        key = (id(reader), id(writer))
        if key in self._active or _verdict(reader, writer):
            return []
        self._active.add(key)
        try:
            return self._walk(reader, writer, path)
        finally:
            self._active.discard(key)

    def _walk(  # noqa: PLR0911 - one return per kind of schema
        self, reader: Schema, writer: Schema, path: str
    ) -> list[Incompatibility]:
        if isinstance(writer, UnionSchema):
            return self._writer_union(reader, writer, path)
        if isinstance(reader, UnionSchema):
            branch = self._branch_for(reader, writer)
            if branch is None:
                return [
                    self._issue(
                        "MISSING_UNION_BRANCH",
                        path,
                        f"{self.writer_label} has {_describe(writer)}, which no branch of "
                        f"{self.reader_label}'s {_describe(reader)} can read",
                    )
                ]
            return self.walk(branch, writer, path)
        if reader.type != writer.type:
            return [self._type_mismatch(reader, writer, path)]
        if isinstance(reader, RecordSchema) and isinstance(writer, RecordSchema):
            return self._record(reader, writer, path)
        if isinstance(reader, ArraySchema) and isinstance(writer, ArraySchema):
            return self.walk(reader.items, writer.items, f"{path}[]")
        if isinstance(reader, MapSchema) and isinstance(writer, MapSchema):
            return self.walk(reader.values, writer.values, f"{path}{{}}")
        if isinstance(reader, EnumSchema) and isinstance(writer, EnumSchema):
            return self._enum(reader, writer, path)
        if isinstance(reader, FixedSchema) and isinstance(writer, FixedSchema):
            return self._fixed(reader, writer, path)
        return []

    def _type_mismatch(self, reader: Schema, writer: Schema, path: str) -> Incompatibility:
        return self._issue(
            "TYPE_MISMATCH",
            path,
            f"{self.reader_label} has type {_describe(reader)} where {self.writer_label} "
            f"has {_describe(writer)}",
        )

    def _name_mismatch(
        self, reader: NamedSchema, writer: NamedSchema, path: str
    ) -> Incompatibility:
        return self._issue(
            "NAME_MISMATCH",
            path,
            f"{self.reader_label} names the {reader.type} {reader.fullname} where "
            f"{self.writer_label} has {writer.fullname} (and no alias maps them)",
        )

    def _writer_union(
        self, reader: Schema, writer: UnionSchema, path: str
    ) -> list[Incompatibility]:
        issues: list[Incompatibility] = []
        for branch in writer.schemas:
            target = self._branch_for(reader, branch) if isinstance(reader, UnionSchema) else reader
            if target is None:
                issues.append(
                    self._issue(
                        "MISSING_UNION_BRANCH",
                        path,
                        f"{self.writer_label} may write {_describe(branch)} here, which "
                        f"{self.reader_label}'s {_describe(reader)} lacks",
                    )
                )
            else:
                issues += self.walk(target, branch, path)
        return issues

    @staticmethod
    def _branch_for(reader: UnionSchema, writer: Schema) -> Schema | None:
        """The reader branch Avro resolution would use, or the closest one to explain."""
        branches: list[Schema] = list(reader.schemas)
        for branch in branches:
            if _verdict(branch, writer):
                return branch
        for branch in branches:
            if branch.type == writer.type and (
                not isinstance(branch, NamedSchema)
                or (isinstance(writer, NamedSchema) and schema_name_equals(branch, writer))
            ):
                return branch
        return None

    def _record(
        self, reader: RecordSchema, writer: RecordSchema, path: str
    ) -> list[Incompatibility]:
        issues: list[Incompatibility] = []
        if not schema_name_equals(reader, writer):
            issues.append(self._name_mismatch(reader, writer, path))
        for field in reader.fields:
            field_path = f"{path}.{field.name}" if path else field.name
            writer_field = lookup_writer_field(writer_schema=writer, reader_field=field)
            if writer_field is None:
                if not field.has_default:
                    issues.append(
                        self._issue(
                            "READER_FIELD_MISSING_DEFAULT_VALUE",
                            field_path,
                            f"{self.reader_label} has field '{field.name}' without a default, "
                            f"and {self.writer_label} has no such field",
                        )
                    )
            else:
                issues += self.walk(field.type, writer_field.type, field_path)
        return issues

    def _enum(self, reader: EnumSchema, writer: EnumSchema, path: str) -> list[Incompatibility]:
        issues: list[Incompatibility] = []
        if not schema_name_equals(reader, writer):
            issues.append(self._name_mismatch(reader, writer, path))
        missing = [s for s in writer.symbols if s not in reader.symbols]
        default = reader.props.get("default")
        if missing and not (default and default in reader.symbols):
            issues.append(
                self._issue(
                    "MISSING_ENUM_SYMBOLS",
                    path,
                    f"{self.writer_label} has symbol(s) {', '.join(missing)} of enum "
                    f"{writer.fullname} that {self.reader_label} lacks, and the reader's enum "
                    "has no default symbol",
                )
            )
        return issues

    def _fixed(self, reader: FixedSchema, writer: FixedSchema, path: str) -> list[Incompatibility]:
        issues: list[Incompatibility] = []
        if not schema_name_equals(reader, writer):
            issues.append(self._name_mismatch(reader, writer, path))
        if reader.size != writer.size:
            issues.append(
                self._issue(
                    "FIXED_SIZE_MISMATCH",
                    path,
                    f"{self.reader_label} has fixed {reader.fullname} of {reader.size} bytes "
                    f"where {self.writer_label} has {writer.size}",
                )
            )
        return issues


def check_pair(
    reader: Schema,
    writer: Schema,
    *,
    reader_label: str,
    writer_label: str,
    level: CompatibilityLevel,
) -> list[Incompatibility]:
    """Why ``reader`` cannot read data written with ``writer``; empty when it can."""
    result = _checker().get_compatibility(reader, writer)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    top = reader.name if isinstance(reader, NamedSchema) else ""
    issues = _Explainer(reader_label, writer_label, level).walk(reader, writer, top)
    if issues:
        return issues
    # The walk found nothing more precise: report what the checker said.
    return [
        Incompatibility(
            rule=str(kind.value).upper(),
            field=", ".join(sorted(result.locations)),
            detail="; ".join(sorted(result.messages)),
            reader=reader_label,
            writer=writer_label,
            level=level,
        )
        for kind in dict.fromkeys(result.incompatibilities)
    ]


def check_compatibility(
    new: Schema,
    previous: Sequence[tuple[str, Schema]],
    level: CompatibilityLevel,
) -> list[Incompatibility]:
    """Every incompatibility of ``new`` with ``previous`` (oldest first) under ``level``.

    Each earlier schema comes with its label for messages (e.g. ``"version 3"``). The
    non-transitive modes check the last one only.
    """
    if level is CompatibilityLevel.NONE or not previous:
        return []
    targets = previous if level.transitive else previous[-1:]
    issues: list[Incompatibility] = []
    for label, old in targets:
        if level.backward:
            issues += check_pair(new, old, reader_label=NEW_SCHEMA, writer_label=label, level=level)
        if level.forward:
            issues += check_pair(old, new, reader_label=label, writer_label=NEW_SCHEMA, level=level)
    return issues
