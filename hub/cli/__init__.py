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
    # Imported here so `import hub.cli` stays cheap and free of side effects.
    from hub.cli import (  # noqa: PLC0415
        acls,
        audit,
        broker,
        connect,
        consent,
        continuity,
        deadletters,
        demo,
        docs,
        intake,
        keys,
        monitor,
        registry,
        router,
        schema_gate,
        topics,
        up,
    )
    from hub.cli import schemas as schemas_cli  # noqa: PLC0415

    schemas_cli.app.command("check")(schema_gate.check)
    schemas_cli.app.command("release")(schema_gate.release)
    schemas_cli.app.command("register")(schema_gate.register)

    app.command("up")(up.up)
    app.command("broker")(broker.broker)
    app.command("registry")(registry.registry)
    app.command("router")(router.router)
    app.add_typer(topics.app, name="topics")
    app.add_typer(schemas_cli.app, name="schemas")
    app.add_typer(consent.app, name="consent")
    app.add_typer(connect.app, name="connect")
    app.add_typer(demo.app, name="demo")
    app.add_typer(monitor.app, name="monitor")
    app.add_typer(intake.app, name="intake")
    app.add_typer(keys.app, name="keys")
    app.add_typer(audit.app, name="audit")
    app.add_typer(deadletters.app, name="deadletters")
    app.add_typer(acls.app, name="acls")
    app.add_typer(continuity.app, name="continuity")
    app.add_typer(docs.app, name="docs")


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
