"""Load and check the canonical Avro schemas (``schemas/*.avsc``).

Every ``.avsc`` file holds exactly one named type in the namespace ``nl.rmt.hub``, in a
file named after the type (``ClientProfile`` -> ``client_profile.avsc``). Types refer to
each other by name; :func:`load_schemas` parses the files in dependency order with one
shared ``named_schemas`` dict, so the parsed schemas resolve every reference.

Besides Avro itself the hub's own rules are checked, each failure raising
:class:`~hub.errors.SchemaDefinitionError` with the file and the field at fault:

* the file is valid JSON (the error gives line and column);
* it holds exactly one named type (no union or primitive at the top, no inline named
  type inside a field) whose name matches the file name and whose namespace is
  ``nl.rmt.hub``; no two files define the same type;
* every record, enum and fixed, and every field, has a non-empty ``doc``;
* a record's ``role`` is absent or ``"message"`` (the values on topics);
* every field of a message record has a ``category`` (a :class:`DataCategory` value);
  a helper record's field may omit it, but if present it must be valid;
* field names are unique; an optional field is ``["null", T]`` with default null;
* every reference resolves to a type defined in the directory, without cycles between
  files; fastavro accepts the schema (its message is kept).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from fastavro.schema import SchemaParseException, parse_schema

from hub.errors import SchemaDefinitionError, SchemaError
from schemas.vocabulary import DataCategory

__all__ = ["MESSAGE_ROLE", "NAMESPACE", "SchemaSet", "fullname_of", "load_schemas", "snake_case"]

NAMESPACE = "nl.rmt.hub"
"""The one namespace of every canonical type."""
MESSAGE_ROLE = "message"
"""Value of the record-level ``role`` property of records that travel on topics."""

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_ROLES = frozenset({MESSAGE_ROLE})
_CATEGORIES = frozenset(c.value for c in DataCategory)

Schema = dict[str, Any]


def snake_case(name: str) -> str:
    """File stem for a type name: ``ClientProfile`` -> ``client_profile``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def fullname_of(name: str) -> str:
    """``ClientProfile`` -> ``nl.rmt.hub.ClientProfile``; a dotted name is kept."""
    return name if "." in name else f"{NAMESPACE}.{name}"


@dataclass(frozen=True)
class _Entry:
    fullname: str
    file: str
    raw: Schema
    parsed: Schema = field(default_factory=dict)


@dataclass(frozen=True)
class SchemaSet:
    """The parsed schemas of one directory, by fullname (short names are accepted too)."""

    _entries: Mapping[str, _Entry]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and fullname_of(name) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _entry(self, name: str) -> _Entry:
        try:
            return self._entries[fullname_of(name)]
        except KeyError:
            raise SchemaError(f"unknown schema {name!r}") from None

    def names(self) -> list[str]:
        """Every fullname, sorted."""
        return sorted(self._entries)

    def parsed(self, fullname: str) -> Schema:
        """The fastavro-parsed schema (ready for the fastavro readers and writers)."""
        return self._entry(fullname).parsed

    def raw(self, fullname: str) -> Schema:
        """A copy of the schema as written in its file."""
        return copy.deepcopy(self._entry(fullname).raw)

    def file(self, fullname: str) -> str:
        """The file the schema came from."""
        return self._entry(fullname).file

    def kind(self, fullname: str) -> str:
        """``record``, ``enum`` or ``fixed``."""
        return str(self._entry(fullname).raw["type"])

    def role(self, fullname: str) -> str | None:
        """The record-level ``role`` (``message`` for topic values), or None."""
        role = self._entry(fullname).raw.get("role")
        return str(role) if role is not None else None

    def messages(self) -> list[str]:
        """Fullnames of the message records (``"role": "message"``), sorted."""
        return [name for name in self.names() if self.role(name) == MESSAGE_ROLE]

    def records(self) -> list[str]:
        """Fullnames of every record type, message or helper, sorted."""
        return [name for name in self.names() if self.kind(name) in {"record", "error"}]

    def field_categories(self, fullname: str) -> dict[str, DataCategory]:
        """Field name -> data category of a message record, in field order."""
        entry = self._entry(fullname)
        if entry.raw.get("role") != MESSAGE_ROLE:
            raise SchemaError(f"{entry.fullname} is not a message record")
        return {f["name"]: DataCategory(f["category"]) for f in entry.raw["fields"]}


# --- reading and per-file checks -------------------------------------------------------------


def _read(file: Traversable, label: str) -> Schema:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaDefinitionError(label, f"cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaDefinitionError(
            label, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if isinstance(data, list):
        raise SchemaDefinitionError(
            label,
            f"holds a union of {len(data)} types; a schema file holds exactly one named type",
        )
    if not isinstance(data, dict) or data.get("type") not in _NAMED:
        raise SchemaDefinitionError(
            label, "holds no named type; a schema file holds exactly one record, enum or fixed"
        )
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise SchemaDefinitionError(label, f"the {data['type']} has no name")
    return data


def _split(schema: Schema) -> tuple[str, str]:
    """(namespace, short name) of a top-level named schema."""
    name: str = schema["name"]
    if "." in name:
        namespace, _, short = name.rpartition(".")
        return namespace, short
    return str(schema.get("namespace") or ""), name


def _doc_ok(node: Mapping[str, Any]) -> bool:
    doc = node.get("doc")
    return isinstance(doc, str) and bool(doc.strip())


def _check_file(schema: Schema, label: str, stem: str) -> None:
    namespace, short = _split(schema)
    if stem != snake_case(short):
        raise SchemaDefinitionError(
            label, f"defines {short!r}, so the file must be named {snake_case(short)}.avsc"
        )
    if namespace != NAMESPACE:
        raise SchemaDefinitionError(
            label, f"namespace is {namespace!r}; every canonical type is in {NAMESPACE!r}"
        )
    if not _doc_ok(schema):
        raise SchemaDefinitionError(label, f"the {schema['type']} {short} has no 'doc'")
    if schema["type"] in {"record", "error"}:
        _check_fields(schema, label)


def _check_fields(schema: Schema, label: str) -> None:
    role = schema.get("role")
    if role is not None and role not in _ROLES:
        raise SchemaDefinitionError(
            label, f"role {role!r} is not known; use {MESSAGE_ROLE!r} or leave it out"
        )
    fields = schema.get("fields")
    if not isinstance(fields, list):
        raise SchemaDefinitionError(label, "a record needs a 'fields' list")
    seen: set[str] = set()
    for index, fld in enumerate(fields):
        if not isinstance(fld, dict) or not isinstance(fld.get("name"), str):
            raise SchemaDefinitionError(label, f"field #{index} has no name")
        name = fld["name"]
        if name in seen:
            raise SchemaDefinitionError(label, "field name is used twice", field=name)
        seen.add(name)
        if not _doc_ok(fld):
            raise SchemaDefinitionError(label, "has no 'doc'", field=name)
        category = fld.get("category")
        if category is None and role == MESSAGE_ROLE:
            raise SchemaDefinitionError(
                label, "a field of a message record needs a 'category'", field=name
            )
        if category is not None and category not in _CATEGORIES:
            raise SchemaDefinitionError(
                label,
                f"category {category!r} is not a DataCategory "
                f"(one of: {', '.join(sorted(_CATEGORIES))})",
                field=name,
            )
        _check_optional(fld, label)
        _check_no_inline(fld.get("type"), label, name)


def _check_optional(fld: Mapping[str, Any], label: str) -> None:
    type_ = fld.get("type")
    if isinstance(type_, list) and "null" in type_:
        if type_[0] != "null" or len(type_) != 2:
            raise SchemaDefinitionError(
                label, 'an optional field is ["null", T] (null first, one other type)', fld["name"]
            )
        if "default" not in fld or fld["default"] is not None:
            raise SchemaDefinitionError(label, "an optional field has default null", fld["name"])


def _check_no_inline(type_: Any, label: str, field_name: str) -> None:
    if isinstance(type_, list):
        for branch in type_:
            _check_no_inline(branch, label, field_name)
    elif isinstance(type_, dict):
        kind = type_.get("type")
        if kind in _NAMED:
            raise SchemaDefinitionError(
                label,
                f"defines the {kind} {type_.get('name')!r} inline; a schema file holds exactly "
                "one named type, so move it to its own file and refer to it by name",
                field=field_name,
            )
        for key in ("items", "values"):
            if key in type_:
                _check_no_inline(type_[key], label, field_name)
        if isinstance(kind, (dict, list)):
            _check_no_inline(kind, label, field_name)


# --- references and order ---------------------------------------------------------------------


def _references(type_: Any, namespace: str) -> Iterator[str]:
    """Fullnames a type expression refers to."""
    if isinstance(type_, str):
        if type_ not in _PRIMITIVES:
            yield type_ if "." in type_ else f"{namespace}.{type_}"
    elif isinstance(type_, list):
        for branch in type_:
            yield from _references(branch, namespace)
    elif isinstance(type_, dict):
        kind = type_.get("type")
        if kind == "array":
            yield from _references(type_.get("items"), namespace)
        elif kind == "map":
            yield from _references(type_.get("values"), namespace)
        else:
            yield from _references(kind, namespace)


def _dependencies(entry: _Entry, defined: Mapping[str, _Entry]) -> set[str]:
    namespace, _ = _split(entry.raw)
    deps: set[str] = set()
    for fld in entry.raw.get("fields", []):
        for ref in _references(fld.get("type"), namespace):
            if ref not in defined:
                raise SchemaDefinitionError(
                    entry.file,
                    f"unresolvable reference {ref!r}: no schema file defines it",
                    field=fld["name"],
                )
            if ref != entry.fullname:
                deps.add(ref)
    return deps


def _order(entries: Mapping[str, _Entry]) -> list[str]:
    """Fullnames so that every type comes after the types it refers to."""
    deps = {name: _dependencies(entry, entries) for name, entry in entries.items()}
    done: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise SchemaDefinitionError(entries[name].file, f"circular reference: {cycle}")
        state[name] = 1
        for dep in sorted(deps[name]):
            visit(dep, [*path, name])
        state[name] = 2
        done.append(name)

    for name in sorted(entries):
        visit(name, [])
    return done


# --- parsing -------------------------------------------------------------------------------------

_PARSE_ERRORS = (SchemaParseException, ValueError, KeyError, TypeError, AttributeError, IndexError)
"""What fastavro raises on a malformed schema (UnknownType is a ValueError)."""


def _parse(entry: _Entry, named: dict[str, Schema]) -> Schema:
    try:
        parsed = parse_schema(copy.deepcopy(entry.raw), named_schemas=named)
    except _PARSE_ERRORS as exc:
        raise SchemaDefinitionError(
            entry.file, f"Avro: {_message(exc)}", field=_culprit(entry, named)
        ) from exc
    if not isinstance(parsed, dict):  # pragma: no cover - _read admits named types only
        raise SchemaDefinitionError(entry.file, "Avro: did not parse to a named type")
    return parsed


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _culprit(entry: _Entry, named: Mapping[str, Schema]) -> str | None:
    """The first field fastavro refuses on its own, if the failure is in one field."""
    namespace, short = _split(entry.raw)
    for fld in entry.raw.get("fields", []):
        probe = {"type": "record", "name": short, "namespace": namespace, "fields": [fld]}
        try:
            parse_schema(copy.deepcopy(probe), named_schemas=dict(named))
        except _PARSE_ERRORS:
            return str(fld.get("name"))
    return None


# --- public entry point ------------------------------------------------------------------------


def _load(directory: Traversable, label: str) -> SchemaSet:
    if not directory.is_dir():
        raise SchemaDefinitionError(label, "is not a directory")
    files = sorted(
        (f for f in directory.iterdir() if f.name.endswith(".avsc") and f.is_file()),
        key=lambda f: f.name,
    )
    if not files:
        raise SchemaDefinitionError(label, "holds no .avsc files")

    entries: dict[str, _Entry] = {}
    stems: dict[str, str] = {}
    for file in files:
        file_label = str(file)
        raw = _read(file, file_label)
        namespace, short = _split(raw)
        fullname = f"{namespace}.{short}" if namespace else short
        if fullname in entries:
            raise SchemaDefinitionError(
                file_label, f"type {fullname} is already defined in {entries[fullname].file}"
            )
        entries[fullname] = _Entry(fullname, file_label, raw)
        stems[fullname] = file.name.removesuffix(".avsc")
    for fullname, entry in entries.items():
        _check_file(entry.raw, entry.file, stems[fullname])

    named: dict[str, Schema] = {}
    parsed = {}
    for name in _order(entries):
        entry = entries[name]
        parsed[name] = _Entry(name, entry.file, entry.raw, _parse(entry, named))
    return SchemaSet(parsed)


@cache
def _default() -> SchemaSet:
    package = resources.files("schemas")
    return _load(package, str(package))


def load_schemas(directory: Path | None = None) -> SchemaSet:
    """Parse and check every ``*.avsc`` in ``directory`` (default: the package's own, cached).

    Raises :class:`~hub.errors.SchemaDefinitionError` naming the file and field at fault.
    """
    if directory is None:
        return _default()
    return _load(directory, str(directory))
