"""``rmt-hub schemas check|release|register``: the schema gate, and registering schemas.

Released versions are kept in the repository, one self-contained schema per message
type and version::

    schemas/released/compatibility.json            {"default": "BACKWARD_TRANSITIVE",
                                                    "subjects": {"<fullname>": "FULL"}}
    schemas/released/nl.rmt.hub.Referral/v1.avsc    every named type inlined
    schemas/released/nl.rmt.hub.Referral/v2.avsc

``check`` expands every message record of the working tree (``schemas/*.avsc``) the same
way and checks it, with the registry's checker, against the released versions under the
subject's level (default ``BACKWARD_TRANSITIVE``: against every released version). It
exits 1 naming field and rule when a change breaks it, or when a released type is gone.
``release`` writes the changed schemas as the next version (only when ``check`` passes).
``register`` registers every message schema with a registry, first setting the level of
each type that ``compatibility.json`` gives one (the registry's global level is left as
it is).

Subjects follow **RecordNameStrategy** (subject = the record's fullname), the hub's
choice for its multi-type topics; ``--strategy topic-record`` registers
``<topic>-<fullname>`` for every topic of the catalogue instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hub.cli._common import console, err_console, handle_errors, settings_for
from hub.errors import ConfigError, SchemaDefinitionError
from hub.registry.client import client_for
from hub.registry.compatibility import (
    DEFAULT_LEVEL,
    CompatibilityLevel,
    Incompatibility,
    check_compatibility,
)
from hub.registry.errors import IncompatibleSchemaError, InvalidSchemaError
from hub.registry.schema import canonical_text, parse_avro
from hub.serde.avro import self_contained_schema
from schemas.loader import load_schemas

__all__ = [
    "COMPATIBILITY_FILE",
    "RELEASED_DIR",
    "GateResult",
    "Status",
    "Strategy",
    "check",
    "gate",
    "register",
    "release",
    "released_versions",
    "subject_levels",
]

RELEASED_DIR = "released"
COMPATIBILITY_FILE = "compatibility.json"


class Status(StrEnum):
    UNCHANGED = "unchanged"
    COMPATIBLE = "changed, compatible"
    NEW = "new, not released yet"
    INCOMPATIBLE = "INCOMPATIBLE"
    REMOVED = "REMOVED"

    @property
    def fails(self) -> bool:
        return self in {Status.INCOMPATIBLE, Status.REMOVED}


class Strategy(StrEnum):
    RECORD = "record"
    TOPIC_RECORD = "topic-record"


@dataclass
class GateResult:
    """The verdict for one message type."""

    subject: str
    status: Status
    level: CompatibilityLevel
    released: list[int] = field(default_factory=list)
    issues: list[Incompatibility] = field(default_factory=list)
    schema: dict[str, Any] | None = None
    """The working tree's self-contained schema (None when the type is gone)."""


def _default_schemas_dir() -> Path:
    return Path(str(resources.files("schemas")))


def _dirs(schemas_dir: Path | None, released_dir: Path | None) -> tuple[Path, Path]:
    base = schemas_dir if schemas_dir is not None else _default_schemas_dir()
    return base, released_dir if released_dir is not None else base / RELEASED_DIR


def released_versions(released_dir: Path, subject: str) -> list[tuple[int, Path]]:
    """(version, file) of every released version of ``subject``, oldest first."""
    folder = released_dir / subject
    if not folder.is_dir():
        return []
    found: list[tuple[int, Path]] = []
    for file in folder.glob("v*.avsc"):
        number = file.stem[1:]
        if not number.isdigit():
            raise SchemaDefinitionError(str(file), "released files are named v<N>.avsc")
        found.append((int(number), file))
    return sorted(found)


def subject_levels(released_dir: Path) -> tuple[CompatibilityLevel, dict[str, CompatibilityLevel]]:
    """(default level, per-subject levels) from ``compatibility.json`` (if any)."""
    file = released_dir / COMPATIBILITY_FILE
    if not file.is_file():
        return DEFAULT_LEVEL, {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        default = CompatibilityLevel.parse(data.get("default", DEFAULT_LEVEL.value))
        subjects = {
            str(name): CompatibilityLevel.parse(level)
            for name, level in (data.get("subjects") or {}).items()
        }
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{file}: {exc}") from exc
    return default, subjects


def _read_released(file: Path) -> str:
    try:
        return canonical_text(file.read_text(encoding="utf-8"))
    except (OSError, InvalidSchemaError) as exc:
        raise SchemaDefinitionError(str(file), f"cannot read the released schema: {exc}") from exc


def gate(schemas_dir: Path | None = None, released_dir: Path | None = None) -> list[GateResult]:
    """Check every message type of ``schemas_dir`` against its released versions."""
    schemas_dir, released_dir = _dirs(schemas_dir, released_dir)
    default_dir = schemas_dir == _default_schemas_dir()
    schema_set = load_schemas() if default_dir else load_schemas(schemas_dir)
    default, levels = subject_levels(released_dir)
    results: list[GateResult] = []
    messages = schema_set.messages()
    for subject in messages:
        level = levels.get(subject, default)
        schema = self_contained_schema(subject, schema_set.raw)
        text = canonical_text(schema)
        versions = released_versions(released_dir, subject)
        result = GateResult(subject, Status.NEW, level, [v for v, _ in versions], schema=schema)
        if versions:
            texts = [(v, _read_released(f)) for v, f in versions]
            if texts[-1][1] == text:
                result.status = Status.UNCHANGED
            else:
                previous = [(f"released v{v}", parse_avro(t)) for v, t in texts]
                result.issues = check_compatibility(parse_avro(text), previous, level)
                result.status = Status.INCOMPATIBLE if result.issues else Status.COMPATIBLE
        results.append(result)
    if released_dir.is_dir():
        for folder in sorted(p for p in released_dir.iterdir() if p.is_dir()):
            if folder.name not in messages and released_versions(released_dir, folder.name):
                results.append(
                    GateResult(
                        folder.name,
                        Status.REMOVED,
                        levels.get(folder.name, default),
                        [v for v, _ in released_versions(released_dir, folder.name)],
                    )
                )
    return results


def _print_results(results: list[GateResult]) -> None:
    table = Table(title="Schema gate: working tree against released versions")
    for column in ("subject", "released", "level", "verdict"):
        table.add_column(column)
    style = {
        Status.UNCHANGED: "dim",
        Status.COMPATIBLE: "green",
        Status.NEW: "cyan",
        Status.INCOMPATIBLE: "bold red",
        Status.REMOVED: "bold red",
    }
    for r in results:
        released = ", ".join(f"v{v}" for v in r.released) or "-"
        table.add_row(r.subject, released, r.level.value, f"[{style[r.status]}]{r.status.value}[/]")
    console.print(table)
    for r in results:
        if r.status is Status.INCOMPATIBLE:
            err_console.print(
                f"[bold red]{escape(r.subject)}[/] breaks {r.level.value}:", highlight=False
            )
            for issue in r.issues:
                err_console.print(f"  - {escape(str(issue))}", highlight=False, soft_wrap=True)
        elif r.status is Status.REMOVED:
            err_console.print(
                f"[bold red]{escape(r.subject)}[/] was released "
                f"(v{r.released[-1]}) but no message schema defines it any more; "
                "partners still read and write it",
                highlight=False,
                soft_wrap=True,
            )


SchemasDirOption = typer.Option(
    None,
    "--schemas-dir",
    help="Directory of the .avsc files (default: the schemas package of this checkout).",
)
ReleasedDirOption = typer.Option(
    None, "--released-dir", help="Released versions (default: <schemas-dir>/released)."
)
StrategyOption = typer.Option(
    Strategy.RECORD,
    "--strategy",
    help="Subject naming: record = <fullname> (the hub's), topic-record = "
    "<topic>-<fullname> for every catalogue topic.",
)


@handle_errors
def check(
    schemas_dir: Path | None = SchemasDirOption,
    released_dir: Path | None = ReleasedDirOption,
) -> None:
    """Fail (exit 1) when a schema change breaks compatibility with released versions."""
    results = gate(schemas_dir, released_dir)
    _print_results(results)
    failing = [r for r in results if r.status.fails]
    if failing:
        err_console.print(
            f"[bold red]schema gate failed:[/] {len(failing)} of {len(results)} message types",
            highlight=False,
        )
        raise typer.Exit(1)
    pending = sum(r.status in {Status.NEW, Status.COMPATIBLE} for r in results)
    note = f"; {pending} changed or new (release them with `rmt-hub schemas release`)"
    console.print(f"schema gate passed: {len(results)} message types" + (note if pending else ""))


@handle_errors
def release(
    schemas_dir: Path | None = SchemasDirOption,
    released_dir: Path | None = ReleasedDirOption,
) -> None:
    """Write every new or changed message schema as its next released version."""
    schemas_dir, released_dir = _dirs(schemas_dir, released_dir)
    results = gate(schemas_dir, released_dir)
    if any(r.status.fails for r in results):
        _print_results(results)
        err_console.print("[bold red]nothing released:[/] the schema gate fails")
        raise typer.Exit(1)
    written = 0
    for r in results:
        if r.status in {Status.NEW, Status.COMPATIBLE} and r.schema is not None:
            version = (r.released[-1] if r.released else 0) + 1
            target = released_dir / r.subject / f"v{version}.avsc"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(r.schema, indent=2, ensure_ascii=False) + "\n", "utf-8")
            console.print(f"released {r.subject} v{version} -> {target}", highlight=False)
            written += 1
    if not (released_dir / COMPATIBILITY_FILE).exists():
        (released_dir / COMPATIBILITY_FILE).write_text(
            json.dumps({"default": DEFAULT_LEVEL.value, "subjects": {}}, indent=2) + "\n",
            "utf-8",
        )
    console.print(f"{written} schema version(s) released")


def _subjects(strategy: Strategy, names: list[str]) -> list[tuple[str, str]]:
    """(subject, message fullname) pairs to register."""
    if strategy is Strategy.RECORD:
        return [(name, name) for name in names]
    from topics import build_catalogue  # noqa: PLC0415 - only this strategy needs topics
    from topics.catalogue import ValueFormat  # noqa: PLC0415

    pairs: list[tuple[str, str]] = []
    for topic in build_catalogue(settings_for()):
        if topic.value_format is ValueFormat.AVRO:
            pairs += [(f"{topic.name}-{n}", n) for n in topic.value_schemas if n in names]
    return pairs


@handle_errors
def register(
    registry_url: str | None = typer.Option(
        None,
        "--registry-url",
        envvar="HUB_SCHEMA_REGISTRY_URL",
        show_envvar=True,
        help="Schema registry to register with (basic auth from "
        "HUB_SCHEMA_REGISTRY_USERNAME / HUB_SCHEMA_REGISTRY_PASSWORD).",
    ),
    schemas_dir: Path | None = SchemasDirOption,
    strategy: Strategy = StrategyOption,
) -> None:
    """Register every message schema (self-contained) with a schema registry."""
    schema_set = load_schemas(schemas_dir) if schemas_dir is not None else load_schemas()
    _, levels = subject_levels(_dirs(schemas_dir, None)[1])
    table = Table(title=f"Registered with {registry_url or 'HUB_SCHEMA_REGISTRY_URL'}")
    for column in ("subject", "id", "version"):
        table.add_column(column)
    refused: list[tuple[str, IncompatibleSchemaError]] = []
    with client_for(settings_for(), registry_url) as client:
        for subject, name in _subjects(strategy, schema_set.messages()):
            schema = self_contained_schema(name, schema_set.raw)
            if name in levels and strategy is Strategy.RECORD:
                # A level set for the type in compatibility.json holds in the registry too.
                client.set_compatibility(levels[name].value, subject=subject)
            try:
                schema_id = client.register(subject, schema)
            except IncompatibleSchemaError as exc:
                refused.append((subject, exc))
                table.add_row(subject, "-", "[bold red]refused (409)[/]")
                continue
            version = client.lookup(subject, schema).version
            table.add_row(subject, str(schema_id), str(version))
    console.print(table)
    for subject, refusal in refused:
        err_console.print(f"[bold red]{escape(subject)}[/] refused:", highlight=False)
        for line in refusal.details or (refusal.message,):
            err_console.print(f"  - {escape(line)}", highlight=False, soft_wrap=True)
    if refused:
        raise typer.Exit(1)
