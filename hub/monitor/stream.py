"""The monitor's faust worker: an agent on the monitor topic, tables per region x period.

The only module of the monitor that knows faust. :func:`build_app` makes (at call time,
never at import) a faust app whose agent reads the monitor topic, applies every event to
an :class:`~hub.monitor.aggregate.Aggregator` (the same code as the report command), and
keeps the faust table ``figures`` - key ``"<REGION>|<period>"``, value
:meth:`Cell.to_dict` - in step with it. It serves the figures, suppressed, over HTTP:
``GET /monitor/report?period=2021-03/04[&region=R][&format=json|csv|html]`` and
``GET /monitor/status``. The HTML report is the monitor dashboard: it gets a small form
to pick another period or region (:func:`with_selector`).

**Restoring state (a choice).** The monitor topic has infinite retention and is the
source of truth, so the worker **rebuilds from it on start**: :func:`rebuild` reads the
whole topic to its fetch high watermark into the aggregator before the worker runs, and
the agent then resumes from its committed offsets, dropping what the rebuild already
applied by event id. The worker never reads its table back: the changelog restore of
faust trusts ``end_offsets()``, which the embedded broker gets wrong (it lost records in
the probe), and per-person state (intake dates, seen ids) would be too large for table
values anyway. The table is a published view: a timer writes every cell whose value
differs from the aggregator's (also after a restore or a rebalance, so it converges),
with ``use_partitioner`` so a key always lands in the same changelog partition.

**Reports.** With a reports topic, another timer publishes every period's report
(suppressed, JSON) there when it changed (:class:`~hub.monitor.publishing.ReportPublisher`):
that topic is all the monitor's analysts read (docs/decisions/0016-monitor-access-by-need.md).

Run **one** aggregator worker: the national monitor is one process. Several workers
would each see only their partitions after the rebuild.

Settings that matter on the embedded broker (docs/embedded-broker.md): short session and
heartbeat, explicit partition counts, a web port per worker, the leader topic off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust

from hub.config import HubSettings
from hub.errors import HubError
from hub.i18n import negotiate
from hub.kafka.config import faust_broker_url, faust_credentials
from hub.logging import quiet_client_loggers
from hub.metrics import CONTENT_TYPE, process_metrics
from hub.monitor.aggregate import Aggregator, CellKey
from hub.monitor.errors import MonitorError, MonitorReadError
from hub.monitor.ledger import Budgets
from hub.monitor.publishing import ReportPublisher
from hub.monitor.report import FORMATS, build_report, render, render_selector
from hub.monitor.suppression import Rule
from hub.monitor.topic import MonitorCodec, publish_reports, read_events
from hub.serde import SerializationContext
from schemas.regions import Region

__all__ = ["TABLE", "build_app", "rebuild", "run_app", "table_key", "with_selector"]

_LOG = logging.getLogger(__name__)

TABLE = "figures"
_CONTENT_TYPES = {"json": "application/json", "csv": "text/csv", "html": "text/html"}


def table_key(key: CellKey) -> str:
    """The table key of a region x period: ``"GROOT_AMSTERDAM|2021-03/04"``."""
    region, period = key
    return f"{region.value}|{period}"


def rebuild(settings: HubSettings, topic: str, codec: MonitorCodec, aggregator: Aggregator) -> int:
    """Apply the whole monitor topic (to its fetch high watermark); returns events read."""
    count = 0
    for event in read_events(settings, topic, codec):
        aggregator.apply(event)
        count += 1
    process_metrics().record_in(topic, "monitor", count)
    return count


def build_app(
    settings: HubSettings,
    aggregator: Aggregator,
    codec: MonitorCodec,
    *,
    topic: str,
    budgets: Budgets,
    rule: Rule | None = None,
    app_id: str | None = None,
    web_host: str = "127.0.0.1",
    web_port: int = 6067,
    sync_interval_s: float = 1.0,
    reports_topic: str | None = None,
    publish_every_s: float = 60.0,
) -> faust.App:
    """The faust app of the monitor worker (nothing connects until a faust Worker runs it).

    ``reports_topic``: publish each period's report there every ``publish_every_s`` when
    it changed (None: never)."""
    rule = rule or Rule()
    datadir = settings.data_dir / "monitor"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id or f"{settings.topic_prefix}-monitor",
        broker=faust_broker_url(settings),
        broker_credentials=faust_credentials(settings),
        broker_client_id=f"{settings.client_id}-monitor",
        broker_session_timeout=3.0,
        broker_heartbeat_interval=0.5,
        broker_request_timeout=max(settings.request_timeout_ms / 1000, 10.0),
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_disable_leader=True,
        web_enabled=True,
        web_bind=web_host,
        web_port=web_port,
        web_host=web_host,
        autodiscover=False,
        store="memory://",
        table_standby_replicas=0,
        datadir=str(datadir),
        producer_acks=-1,
        key_serializer="json",
        value_serializer="json",
    )
    source = app.topic(
        topic,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    table = app.Table(
        TABLE,
        default=None,
        partitions=settings.topic_partitions,
        use_partitioner=True,
    )
    stats = {"unreadable": 0}
    metrics = process_metrics()

    @app.agent(source, name="aggregate")
    async def aggregate(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            if message.value is None:
                continue
            ctx = SerializationContext(
                message.topic, partition=message.partition, offset=message.offset
            )
            try:
                before = aggregator.applied
                aggregator.apply(codec.deserialize(message.value, ctx))
            except MonitorReadError as exc:
                stats["unreadable"] += 1
                metrics.dead_letter(message.topic, "monitor", "unreadable")
                _LOG.error("monitor: skipped an unreadable record: %s", type(exc).__name__)
            else:
                if aggregator.applied > before:  # duplicates (e.g. after the rebuild) not counted
                    metrics.record_in(message.topic, "monitor")

    @app.timer(sync_interval_s)  # type: ignore[untyped-decorator]
    async def _sync() -> None:
        if app.rebalancing:
            return
        for key, cell in aggregator.cells().items():
            value = cell.to_dict()
            name = table_key(key)
            if table.get(name) != value:
                table[name] = value

    if reports_topic is not None:
        _add_publisher(
            app,
            settings,
            ReportPublisher(aggregator, budgets, rule),
            reports_topic,
            publish_every_s,
        )

    @app.page("/metrics")
    async def prometheus(view: Any, request: Any) -> Any:
        # aiohttp refuses a charset inside content_type; the exposition is UTF-8 text
        return view.bytes(metrics.exposition(), content_type=CONTENT_TYPE.split("; charset=")[0])

    @app.page("/healthz")
    async def healthz(view: Any, request: Any) -> Any:
        return view.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(view: Any, request: Any) -> Any:
        if app.rebalancing:
            return view.json({"status": "rebalancing"}, status=503)
        return view.json({"status": "ok", "events": aggregator.applied})

    @app.page("/monitor/status")
    async def status(view: Any, request: Any) -> Any:
        return view.json(
            {
                "events": aggregator.applied,
                "duplicates": aggregator.duplicates,
                "people": len(aggregator),
                "unreadable": stats["unreadable"],
                "periods": aggregator.periods(),
            }
        )

    @app.page("/monitor/report")
    async def report(view: Any, request: Any) -> Any:
        query = request.query
        fmt = query.get("format", "json")
        try:
            if fmt not in FORMATS:
                raise ValueError(f"format: one of {', '.join(FORMATS)}")
            region = Region(query["region"]) if query.get("region") else None
            built = build_report(
                aggregator, query.get("period", ""), budgets=budgets, rule=rule, region=region
            )
        except (MonitorError, ValueError) as exc:
            return view.json({"error": str(exc)}, status=400)
        lang = negotiate(query.get("lang"), request.headers.get("Accept-Language"))
        text = render(built, fmt, lang)
        if fmt == "html":
            text = with_selector(text, aggregator.periods(), built.period, region)
        return view.text(text, content_type=_CONTENT_TYPES[fmt])

    return app


def _add_publisher(
    app: faust.App,
    settings: HubSettings,
    publisher: ReportPublisher,
    topic: str,
    every_s: float,
) -> None:
    """A timer that publishes the changed reports to ``topic`` every ``every_s``."""

    @app.timer(every_s)  # type: ignore[untyped-decorator]
    async def _publish() -> None:
        if app.rebalancing:
            return
        due = publisher.due()
        if not due:
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, publish_reports, settings, topic, due)
        except HubError as exc:
            _LOG.warning(
                "monitor: %d reports not published (tried again in %.0f s): %s",
                len(due),
                every_s,
                exc,
            )
            return
        publisher.sent(due)
        _LOG.info("monitor: published the reports of %s to %s", ", ".join(k for k, _ in due), topic)


def with_selector(page: str, periods: list[str], period: str, region: Region | None = None) -> str:
    """The HTML report with a form to pick another period or region (GET, no script) and
    a link to the other language (:func:`hub.monitor.report.render_selector`)."""
    return render_selector(page, periods, period, region)


def run_app(app: faust.App, loglevel: str = "WARNING") -> None:
    """Run ``app`` as a faust worker in this process until SIGINT/SIGTERM (exits).

    The Kafka and HTTP clients' loggers stay at WARNING whatever ``loglevel`` is: at DEBUG
    they log requests and responses, record values included
    (:func:`hub.logging.quiet_client_loggers`).
    """
    quiet_client_loggers()
    faust.Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
