"""``rmt-hub docs``: documents generated from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli._common import console, handle_errors, settings_for
from hub.docs import build_asyncapi, render_asyncapi
from hub.docs.headers import replace_tables
from hub.docs.test_vectors import build_test_vectors, render
from schemas import load_schemas
from topics import build_catalogue

__all__ = ["app"]

app = typer.Typer(
    help="Generated documentation (AsyncAPI, protocol headers and test vectors).",
    no_args_is_help=True,
)


@app.command("asyncapi")
@handle_errors
def asyncapi(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file (docs/asyncapi.json in the repo)."),
    ] = None,
) -> None:
    """The AsyncAPI 3.0 document of every topic and record, from topics/ and schemas/."""
    settings = settings_for()
    text = render_asyncapi(build_asyncapi(settings, build_catalogue(settings), load_schemas()))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")


@app.command("test-vectors")
@handle_errors
def write_test_vectors(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The directory to write them to."),
    ] = Path("docs/test-vectors"),
) -> None:
    """The partner protocol's test vectors (docs/partner-protocol.md), made by the hub's code."""
    out.mkdir(parents=True, exist_ok=True)
    for name, content in build_test_vectors().items():
        (out / name).write_text(render(content), encoding="utf-8")
    console.print(f"wrote {out}")


@app.command("protocol")
@handle_errors
def protocol(
    path: Annotated[
        Path,
        typer.Option("--path", help="The protocol document whose header tables to rewrite."),
    ] = Path("docs/partner-protocol.md"),
) -> None:
    """Rewrite the header tables of the partner protocol (from hub/docs/headers.py)."""
    path.write_text(replace_tables(path.read_text(encoding="utf-8")), encoding="utf-8")
    console.print(f"wrote {path}")
