"""``rmt-hub monitor report|aggregate|rotate-key``: the national monitor.

``report`` reads the monitor topic to its end (the fetch high watermark), aggregates it
in this process (:mod:`hub.monitor.aggregate`, the same code as the worker) and writes
the bi-monthly report, suppressed, as CSV, JSON or HTML; with ``--publish`` also to the
reports topic, which is what the monitor's analysts read (they may not read the events:
docs/decisions/0016-monitor-access-by-need.md). ``aggregate`` runs the faust
worker that keeps the figures current, serves them over HTTP and publishes each period's
report to the reports topic when it changed. ``rotate-key`` adds a
monitor key version (:mod:`hub.monitor.pseudonym`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from hub.cli._common import (
    BootstrapOption,
    console,
    err_console,
    handle_errors,
    require_safe_start,
    settings_for,
)
from hub.cli._common import require_cluster as _require_cluster
from hub.config import HubSettings
from hub.errors import ConfigError
from hub.monitor.aggregate import Aggregator
from hub.monitor.errors import MonitorKeyError
from hub.monitor.ledger import load_budgets
from hub.monitor.pseudonym import MonitorPseudonymiser, add_key_version, load_keyring
from hub.monitor.report import FORMATS, build_report, render
from hub.monitor.suppression import DEFAULT_THRESHOLD, Rule
from hub.monitor.topic import MonitorCodec, publish_report, read_events
from hub.registry.client import client_for
from hub.registry.embedded import registry_for
from schemas.regions import Region
from topics.catalogue import build_catalogue

__all__ = ["aggregate", "app", "report", "rotate_key"]

app = typer.Typer(
    name="monitor",
    help="The national monitor: bi-monthly reports (suppressed), the aggregating worker, keys.",
    no_args_is_help=True,
)

_TopicOption = typer.Option(
    "--topic", help="Monitor topic (default: the catalogue's <prefix>.monitor.events)."
)
_BudgetsOption = typer.Option(
    "--budgets",
    help="Budget allocations file (JSON, euro); default: the shipped illustrative one.",
    exists=True,
    dir_okay=False,
)


def _region(value: str | None) -> Region | None:
    if value is None:
        return None
    try:
        return Region(value.upper())
    except ValueError:
        pass
    try:
        return Region.from_cbs_name(value)
    except ValueError:
        raise ConfigError(
            f"unknown region {value!r}: an enum name (GROOT_AMSTERDAM) or a CBS name "
            "(Groot Amsterdam)"
        ) from None


def _pseudonymiser(settings: HubSettings) -> MonitorPseudonymiser | None:
    """The monitor keys if this machine has them (needed only after a rotation)."""
    try:
        return MonitorPseudonymiser(load_keyring(settings, create=False))
    except MonitorKeyError:
        return None


@contextmanager
def _codec(settings: HubSettings) -> Iterator[MonitorCodec]:
    embedded = settings.model_copy(update={"registry_port": 0})
    with registry_for(embedded) as url, client_for(settings, url) as registry:
        yield MonitorCodec(registry)


def _topic(settings: HubSettings, topic: str | None) -> str:
    return topic or build_catalogue(settings).monitor_events.name


@app.command("report")
@handle_errors
def report(
    *,
    period: Annotated[str, typer.Option("--period", help="Two-month period, e.g. 2021-03/04.")],
    region: Annotated[
        str | None, typer.Option("--region", help="Only this region (and the national totals).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, json or html.")] = "json",
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the html report: nl (default) or en.")
    ] = "nl",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
    threshold: Annotated[
        int, typer.Option("--threshold", min=1, help="Suppress figures of fewer people.")
    ] = DEFAULT_THRESHOLD,
    budgets_file: Annotated[Path | None, _BudgetsOption] = None,
    topic: Annotated[str | None, _TopicOption] = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Also publish it (JSON) to the reports topic, for the analysts."
        ),
    ] = False,
    bootstrap_servers: str | None = BootstrapOption,
) -> None:
    """Write the bi-monthly report of one period, with small cells suppressed."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}")
    settings = _require_cluster(settings_for(bootstrap_servers))
    wanted = _region(region)
    budgets = load_budgets(budgets_file)
    aggregator = Aggregator(_pseudonymiser(settings))
    with _codec(settings) as codec:
        aggregator.apply_all(read_events(settings, _topic(settings, topic), codec))
    built = build_report(
        aggregator, period, budgets=budgets, rule=Rule(threshold=threshold), region=wanted
    )
    text = render(built, fmt, lang)
    if publish:
        reports = build_catalogue(settings).monitor_reports.name
        key = publish_report(settings, reports, built)
        err_console.print(f"report {key} published to {reports}", highlight=False)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        err_console.print(
            f"report {built.period} ({fmt}) written to {out}: {aggregator.applied} events, "
            f"{aggregator.duplicates} duplicates dropped",
            highlight=False,
        )


@app.command("aggregate")
@handle_errors
def aggregate(
    *,
    web_port: Annotated[
        int, typer.Option("--web-port", help="HTTP port of the figures (loopback).")
    ] = 6067,
    threshold: Annotated[int, typer.Option("--threshold", min=1)] = DEFAULT_THRESHOLD,
    budgets_file: Annotated[Path | None, _BudgetsOption] = None,
    topic: Annotated[str | None, _TopicOption] = None,
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="faust app id (consumer group).")
    ] = None,
    publish_every: Annotated[
        float,
        typer.Option(
            "--publish-every",
            min=0,
            help="Seconds between publications of the changed reports to the reports "
            "topic (the analysts' only source); 0: never.",
        ),
    ] = 60.0,
    loglevel: Annotated[str, typer.Option("--loglevel")] = "WARNING",
    supervised: Annotated[
        bool,
        typer.Option(
            "--supervised",
            hidden=True,
            help="Started by a command that checked the start itself (rmt-hub up).",
        ),
    ] = False,
    bootstrap_servers: str | None = BootstrapOption,
) -> None:
    """Run the aggregating faust worker (rebuilds from the topic first); serves the figures."""
    from hub.monitor.stream import build_app, rebuild, run_app  # noqa: PLC0415 - faust is heavy

    settings = _require_cluster(settings_for(bootstrap_servers))
    if not supervised:
        require_safe_start(settings, "rmt-hub monitor aggregate")
    name = _topic(settings, topic)
    budgets = load_budgets(budgets_file)
    aggregator = Aggregator(_pseudonymiser(settings))
    with _codec(settings) as codec:
        read = rebuild(settings, name, codec, aggregator)
        err_console.print(
            f"monitor: rebuilt from {name}: {read} events; serving on "
            f"http://127.0.0.1:{web_port}/monitor/report?period=YYYY-MM/MM",
            highlight=False,
        )
        faust_app = build_app(
            settings,
            aggregator,
            codec,
            topic=name,
            budgets=budgets,
            rule=Rule(threshold=threshold),
            app_id=app_id,
            web_port=web_port,
            reports_topic=build_catalogue(settings).monitor_reports.name if publish_every else None,
            publish_every_s=publish_every or 60.0,
        )
        run_app(faust_app, loglevel=loglevel)


@app.command("rotate-key")
@handle_errors
def rotate_key() -> None:
    """Add the next monitor key version to the data dir (restart the hub to use it)."""
    version = add_key_version(settings_for())
    console.print(
        f"monitor key version {version} created; restart the hub's processes to write with it. "
        "Give the national monitor versions 2 and up (never version 1).",
        highlight=False,
    )
