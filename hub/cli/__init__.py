"""The ``rmt-hub`` command line.

Each command group lives in its own module and is added here; importing this package
starts nothing.
"""

from __future__ import annotations

import typer

from hub import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="rmt-hub",
    help="Data-exchange hub of the regional mobility teams: consented client data over "
    "Avro-schema'd Kafka topics.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rmt-hub {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Data-exchange hub of the regional mobility teams."""


def _register() -> None:
    from hub.cli import topics  # noqa: PLC0415 - keeps `import hub.cli` cheap

    app.add_typer(topics.app, name="topics")


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
