"""``rmt-hub schemas``: check and list the canonical Avro schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli._common import console, handle_errors
from schemas.loader import MESSAGE_ROLE, SchemaSet, load_schemas

__all__ = ["app", "schema_table", "validation_table"]

app = typer.Typer(help="The canonical Avro schemas: validate and list them.", no_args_is_help=True)

DirectoryArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Directory of .avsc files; the hub's own schemas when left out.",
        show_default=False,
    ),
]


def _size(schemas: SchemaSet, name: str) -> str:
    raw = schemas.raw(name)
    members = raw.get("fields") or raw.get("symbols") or []
    return str(len(members))


def _categories(schemas: SchemaSet, name: str) -> str:
    if schemas.role(name) != MESSAGE_ROLE:
        return ""
    seen = dict.fromkeys(schemas.field_categories(name).values())
    return ", ".join(category.value for category in seen)


def _ordered(schemas: SchemaSet) -> list[str]:
    messages = schemas.messages()
    return [*messages, *(n for n in schemas.names() if n not in messages)]


def validation_table(schemas: SchemaSet, title: str) -> Table:
    """One row per schema: name, role (or kind), fields (or symbols) and file."""
    table = Table(title=title)
    table.add_column("schema", style="bold", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("fields", justify="right", no_wrap=True)
    table.add_column("file", overflow="fold", style="dim")
    for name in _ordered(schemas):
        table.add_row(
            name.rsplit(".", 1)[-1],
            schemas.role(name) or schemas.kind(name),
            _size(schemas, name),
            Path(schemas.file(name)).name,
        )
    return table


def schema_table(schemas: SchemaSet, title: str) -> Table:
    """One row per schema: name, role, fields (or symbols) and the data categories."""
    table = Table(title=title)
    table.add_column("schema", style="bold", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("fields", justify="right", no_wrap=True)
    table.add_column("categories", overflow="fold")
    for name in _ordered(schemas):
        table.add_row(
            name.rsplit(".", 1)[-1],
            schemas.role(name) or schemas.kind(name),
            _size(schemas, name),
            _categories(schemas, name),
        )
    return table


@app.command("validate")
@handle_errors
def validate(directory: DirectoryArgument = None) -> None:
    """Parse and check every .avsc file; exit 1 naming the file and field at fault."""
    schemas = load_schemas(directory)
    where = directory or "the built-in schemas"
    console.print(validation_table(schemas, f"{len(schemas)} schemas in {where}"))
    console.print(
        f"[green]ok:[/] {len(schemas)} schemas valid, {len(schemas.messages())} message records",
        highlight=False,
    )


@app.command("list")
@handle_errors
def list_schemas(directory: DirectoryArgument = None) -> None:
    """List every schema with its role, field count and data categories."""
    schemas = load_schemas(directory)
    console.print(schema_table(schemas, f"Canonical schemas ({len(schemas)})"))
