"""``rmt-hub acls``: Kafka ACLs for production, rendered from the topic catalogue."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hub.broker.overlay import render_overlay
from hub.cli._common import console, handle_errors, settings_for
from hub.errors import ConfigError
from hub.security.acls import principals, render_acls, to_json, to_kafka_acls_script
from topics import build_catalogue

__all__ = ["AclFormat", "app", "compose", "render"]

app = typer.Typer(help="Kafka ACLs derived from the topic catalogue.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Kafka ACLs derived from the topic catalogue."""


class AclFormat(StrEnum):
    SH = "sh"
    JSON = "json"
    PRINCIPALS = "principals"


@app.command("render")
@handle_errors
def render(
    fmt: Annotated[
        AclFormat,
        typer.Option(
            "--format",
            "-f",
            help="sh: kafka-acls.sh commands; json: one object per ACL; principals: "
            "the user names, one per line.",
        ),
    ] = AclFormat.SH,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print every ACL each principal (partner, hub, monitor) needs, and no more."""
    bindings = render_acls(build_catalogue(settings_for()))
    if fmt is AclFormat.SH:
        text = to_kafka_acls_script(bindings)
    elif fmt is AclFormat.JSON:
        text = to_json(bindings)
    else:
        text = "".join(f"{name}\n" for name in principals(bindings))
    if _emit(text, output):
        console.print(f"wrote {len(bindings)} ACLs ({fmt.value}) to {output}")


@app.command("compose")
@handle_errors
def compose(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print deploy/kafka/compose.security.yml: the secured brokers' settings (those the
    tests run) and each hub service signed in as its own principal."""
    if _emit(render_overlay(), output):
        console.print(f"wrote the compose security overlay to {output}")


def _emit(text: str, output: Path | None) -> bool:
    """Print ``text``, or write it to ``output`` (then True)."""
    if output is None:
        console.out(text, end="", highlight=False)
        return False
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{output}: cannot write: {exc.strerror}") from exc
    return True
