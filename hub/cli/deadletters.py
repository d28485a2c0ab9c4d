"""``rmt-hub deadletters``: inspect and replay the records the router refused.

Dead letters are encrypted to the hub operators' key (``operations``): these commands
need it in the key store (``HUB_KEYS_DIR``) and refuse clearly without it. Each reads the
whole dead-letter topic up to its high watermark (with a running count), checks the
hub's signature of every dead letter and decrypts it (:mod:`hub.deadletters`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from hub.cli._common import (
    BootstrapOption,
    console,
    err_console,
    handle_errors,
    require_cluster,
    settings_for,
)
from hub.config import HubSettings
from hub.deadletters import (
    DeadLetterError,
    StoredDeadLetter,
    find,
    read_dead_letters,
    replay,
    replay_refusal,
    select,
)
from hub.errors import ConfigError
from hub.registry.client import client_for
from hub.security.config import partner_key_store
from hub.security.headers import ENC_KEY
from hub.serde.canonical import CanonicalCodec
from schemas.models import DeadLetter
from schemas.models.enums import DeadLetterReason
from topics import build_catalogue
from topics.partners import load_partners

__all__ = ["app"]

app = typer.Typer(
    help="Inspect and replay dead letters (needs the operations key).", no_args_is_help=True
)

TimeoutOption = typer.Option("--timeout", min=1, help="Seconds to read the dead-letter topic.")
ReasonOption = typer.Option(
    "--reason", case_sensitive=False, help="Only dead letters with this reason code."
)


@app.callback()
def _group() -> None:
    """Inspect and replay dead letters: the records the router refused, kept as they
    arrived and encrypted to the hub operators' key."""


def _since(text: str | None) -> datetime | None:
    """An ISO date-time (UTC when no zone is given) or a duration back from now: 30m, 6h, 2d."""
    if text is None:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--since {text!r}: give an ISO date-time or 30m, 6h, 2d") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def _letters(settings: HubSettings, timeout_s: float) -> Iterator[list[StoredDeadLetter]]:
    topic = build_catalogue(settings).dead_letter.name
    store = partner_key_store(settings)
    with client_for(settings) as registry:
        codec = CanonicalCodec(registry)
        with console.status(f"reading {topic} ...") as status:

            def progress(count: int) -> None:
                status.update(f"reading {topic}: {count:,} records")

            found = read_dead_letters(
                settings, topic, store=store, codec=codec, timeout_s=timeout_s, progress=progress
            )
    unreadable = [s for s in found if s.letter is None]
    for stored in unreadable:
        err_console.print(f"[yellow]skipped[/] {stored.where}: {stored.problem}", highlight=False)
    yield found


def _short(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _table(found: list[StoredDeadLetter]) -> Table:
    table = Table(title="dead letters")
    for column in ("dead letter", "failed at", "source", "partner", "reason", "message"):
        table.add_column(column, overflow="fold" if column == "message" else "ellipsis")
    for stored in found:
        letter = stored.letter
        assert letter is not None
        warning = "" if stored.hub_signed else " [bold red](not hub-signed)[/]"
        table.add_row(
            stored.where + warning,
            letter.failed_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{letter.source_topic}/{letter.source_partition}@{letter.source_offset}",
            letter.source_partner or "-",
            letter.reason.value,
            _short(letter.message),
        )
    return table


@app.command("list")
@handle_errors
def list_(
    reason: Annotated[DeadLetterReason | None, ReasonOption] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Only records this partner published.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only dead letters since then: an ISO time, or 30m, 6h, 2d."),
    ] = None,
    bootstrap_servers: str | None = BootstrapOption,
    timeout_s: Annotated[float, TimeoutOption] = 120.0,
) -> None:
    """One line per dead letter: where (PARTITION:OFFSET), when, source, partner, reason."""
    settings = require_cluster(settings_for(bootstrap_servers))
    moment = _since(since)
    with _letters(settings, timeout_s) as found:
        chosen = select(found, reason=reason, partner=partner, since=moment)
    console.print(_table(chosen))
    console.print(f"{len(chosen)} of {len([s for s in found if s.letter])} dead letters")


@app.command("show")
@handle_errors
def show(
    where: Annotated[str, typer.Argument(help="PARTITION:OFFSET (or OFFSET) from `list`.")],
    bootstrap_servers: str | None = BootstrapOption,
    timeout_s: Annotated[float, TimeoutOption] = 120.0,
) -> None:
    """One dead letter in full: its reason and the original record as it arrived.

    Decrypted with the operations key; an original value encrypted to the hub stays so
    (shown as its size)."""
    settings = require_cluster(settings_for(bootstrap_servers))
    with _letters(settings, timeout_s) as found:
        stored = find(found, where)
    letter = stored.letter
    if letter is None:
        raise DeadLetterError(f"dead letter {stored.where}: {stored.problem}")
    rows = [
        ("dead letter", f"{stored.topic} {stored.where}"),
        ("hub signature", "ok" if stored.hub_signed else f"[bold red]{stored.problem}[/]"),
        ("failed at", letter.failed_at.isoformat()),
        ("reason", letter.reason.value),
        ("message", letter.message),
        ("field", letter.field or "-"),
        (
            "source",
            f"{letter.source_topic} partition {letter.source_partition} offset "
            f"{letter.source_offset}",
        ),
        ("partner", letter.source_partner or "-"),
        ("record type", letter.record_type or "-"),
        ("event id", letter.event_id or "-"),
        ("key", _bytes(letter.original_key)),
        ("value", _value(letter)),
    ]
    table = Table(show_header=False, title=f"dead letter {stored.where}")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, text in rows:
        table.add_row(name, text)
    for header in letter.original_headers:
        table.add_row(f"header {header.name}", _bytes(header.value))
    console.print(table)
    refusal = replay_refusal(stored, _outboxes(settings))
    console.print(
        f"replay: {refusal or 'possible (rmt-hub deadletters replay ' + stored.where + ')'}"
    )


def _bytes(data: bytes | None) -> str:
    if data is None:
        return "(none)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"{len(data)} bytes: {data[:48].hex()}{'…' if len(data) > 48 else ''}"
    return text if text.isprintable() else repr(text)


def _value(letter: DeadLetter) -> str:
    value = letter.original_value
    if value is None:
        return "(none: a tombstone)"
    if any(h.name == ENC_KEY for h in letter.original_headers):
        return f"{len(value):,} bytes, encrypted to the hub (key in header rmt-enc-key)"
    return (
        f"{len(value):,} bytes, not encrypted: {value[:48].hex()}{'…' if len(value) > 48 else ''}"
    )


def _outboxes(settings: HubSettings) -> set[str]:
    catalogue = build_catalogue(settings)
    return {catalogue.outbox(p.id).name for p in load_partners(settings.partners_file)}


@app.command("replay")
@handle_errors
def replay_(
    where: Annotated[
        list[str] | None, typer.Argument(help="PARTITION:OFFSET (or OFFSET) of each dead letter.")
    ] = None,
    reason: Annotated[
        DeadLetterReason | None,
        typer.Option(
            "--reason", case_sensitive=False, help="Every dead letter with this reason code."
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    bootstrap_servers: str | None = BootstrapOption,
    timeout_s: Annotated[float, TimeoutOption] = 120.0,
) -> None:
    """Publish the original records again, exactly as they arrived, for the router.

    Same key, value bytes and headers, to the outbox and partition they came from. Fix
    the cause first (e.g. register the partner's key for KEY_UNKNOWN). A record refused
    after the router accepted its signature is not replayed (its replay guard holds the
    event id): the partner publishes it again instead."""
    if not where and reason is None:
        raise ConfigError("name dead letters (PARTITION:OFFSET ...) or pass --reason")
    settings = require_cluster(settings_for(bootstrap_servers))
    with _letters(settings, timeout_s) as found:
        chosen = [find(found, w) for w in where or ()]
        chosen += [s for s in select(found, reason=reason) if reason is not None]
    outboxes = _outboxes(settings)
    unique = list({s.where: s for s in chosen}.values())
    refused = {s.where: r for s in unique if (r := replay_refusal(s, outboxes))}
    for text in refused.values():
        err_console.print(f"[yellow]not replayed:[/] {text}", highlight=False)
    todo = [s for s in unique if s.where not in refused]
    if not todo:
        raise DeadLetterError("nothing to replay")
    console.print(_table(todo))
    if not yes and not typer.confirm(f"Replay these {len(todo)} record(s)?"):
        raise typer.Exit(1)
    for done in replay(settings, todo):
        letter = done.source.letter
        assert letter is not None
        console.print(
            f"replayed {done.source.where} ({letter.reason.value}, event "
            f"{letter.event_id or '?'}) -> {done.topic} partition {done.partition} "
            f"offset {done.offset}",
            highlight=False,
        )
    if refused:
        raise typer.Exit(1)
