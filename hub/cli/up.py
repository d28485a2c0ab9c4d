"""``rmt-hub up``: the whole hub in one supervised process tree, until Ctrl-C.

Broker (embedded unless HUB_BOOTSTRAP_SERVERS is set), topics, schema registry
(embedded unless HUB_SCHEMA_REGISTRY_URL is set), a self-check of every schema over
the wire, the consent service (API, console, change-feed relay), a router worker
(subprocess) and, with ``--demo N``, synthetic partner files fed through the
connectors, and the monitor's aggregating worker (subprocess) whose HTML report is the
monitor dashboard. A live terminal view shows records per partner and the router's lag.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from types import FrameType
from typing import Annotated

import typer
from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from consent.api.auth import issue_run_key
from consent.model import Role, utc_now
from consent.outbox import wire_encoder
from consent.runtime import ConsentRuntime
from hub.broker import EmbeddedBroker, choose_broker, running_broker
from hub.cli._common import (
    BootstrapOption,
    console,
    handle_errors,
    require_safe_start,
    settings_for,
)
from hub.cli.topics import print_report
from hub.config import HubSettings
from hub.continuity import ContinuityGuard, ContinuityReport
from hub.errors import HubError
from hub.http import HttpServer
from hub.logging import configure_logging
from hub.monitor.runtime import MonitorProcess, run_monitor
from hub.recovery import (
    Guardian,
    RecoveryStep,
    apply_topics,
    rebuild_consent_feed,
    republish_schemas,
    start_workers,
    stop_workers,
)
from hub.registry.client import client_for
from hub.registry.embedded import EmbeddedRegistry
from hub.registry.store import KafkaSchemaStore
from hub.router.options import RouterOptions
from hub.router.runtime import RouterProcess, run_router
from hub.security.config import ensure_keys, partner_key_store, security_enabled
from hub.selfcheck import RoundTrip, run_selfcheck
from hub.serde.canonical import CanonicalCodec, typed_decoder
from hub.traffic import TrafficCounter, TrafficSnapshot
from schemas import load_schemas
from schemas.models import DisclosureEvent, two_month_period
from topics import apply_to_cluster, build_catalogue, load_partners
from topics.catalogue import TopicCatalogue

__all__ = ["demo_period", "up", "wait_for_shutdown"]


class _Shutdown:
    """SIGINT/SIGTERM set an event instead of raising, while installed."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name = ""
        self._previous: dict[int, object] = {}

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        self.event.set()

    def __enter__(self) -> _Shutdown:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *_: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def wait_for_shutdown() -> str:
    """Block until SIGINT or SIGTERM; return the signal's name."""
    with _Shutdown() as shutdown:
        while not shutdown.event.wait(0.5):
            pass
        return shutdown.signal_name


def _selfcheck_table(results: list[RoundTrip]) -> Table:
    table = Table(title="Self-check: one record per schema over the broker")
    table.add_column("schema", style="bold")
    table.add_column("wire bytes", justify="right")
    table.add_column("send → receive", justify="right")
    table.add_column("result")
    for r in results:
        verdict = "[green]ok[/]" if r.ok else f"[bold red]FAILED[/] {r.detail}"
        table.add_row(r.schema.rsplit(".", 1)[-1], str(r.size), f"{r.latency_ms:.1f} ms", verdict)
    return table


def _traffic_table(snapshot: TrafficSnapshot, started: float) -> Table:
    lag = "?" if snapshot.router_lag is None else str(snapshot.router_lag)
    table = Table(
        title=f"Traffic per partner ({time.monotonic() - started:.0f} s; router lag: {lag})",
        caption="Ctrl-C stops everything",
    )
    table.add_column("partner", style="bold")
    for column in ("published", "delivered", "notices", "dead-lettered"):
        table.add_column(column, justify="right")
    for row in snapshot.partners:
        table.add_row(
            row.partner,
            str(row.published),
            str(row.delivered),
            str(row.notices),
            f"[red]{row.dead_lettered}[/]" if row.dead_lettered else "0",
        )
    t = snapshot.totals
    table.add_section()
    table.add_row(
        "total",
        str(t.get("published", 0)),
        str(t.get("delivered", 0)),
        str(t.get("notices", 0)),
        str(t.get("dead_lettered", 0)),
        style="bold",
    )
    return table


def _apply_topics(running: HubSettings, catalogue: TopicCatalogue) -> None:
    print_report(apply_to_cluster(running, catalogue))


def _selfcheck(running: HubSettings, catalogue: TopicCatalogue, codec: CanonicalCodec) -> None:
    results = run_selfcheck(running, catalogue.selfcheck.name, codec)
    console.print(_selfcheck_table(results))
    passed = sum(r.ok for r in results)
    console.print(f"self-check: {passed}/{len(results)} schemas round-tripped exactly")
    if passed != len(results):
        raise HubError("self-check failed")


def _ensure_keys(running: HubSettings) -> None:
    """With record security on: keys for the hub and every partner that has none yet."""
    if not security_enabled(running):
        console.print("[bold yellow]record security is off[/] (HUB_SECURITY_ENABLED=false)")
        return
    created = ensure_keys(running, load_partners(running.partners_file))
    where = partner_key_store(running).root
    console.print(f"[bold]keys:[/] {where} ({len(created)} created; records signed and encrypted)")


def _start_router(stack: ExitStack, running: HubSettings, registry_url: str) -> RouterProcess:
    data_dir = running.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    status = data_dir / "router-status.json"
    options = (
        RouterOptions.for_embedded_broker(status_file=status)
        if running.bootstrap_servers and running.embedded_host in running.bootstrap_servers
        else RouterOptions(status_file=status)
    )
    router_settings = running.model_copy(update={"schema_registry_url": registry_url})
    worker = stack.enter_context(
        run_router(router_settings, options, log_file=data_dir / "router.log")
    )
    worker.wait_ready(timeout_s=90)
    return worker


def _start_monitor(stack: ExitStack, running: HubSettings, registry_url: str) -> MonitorProcess:
    data_dir = running.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    monitor_settings = running.model_copy(update={"schema_registry_url": registry_url})
    worker = stack.enter_context(run_monitor(monitor_settings, log_file=data_dir / "monitor.log"))
    worker.wait_ready(timeout_s=90)
    return worker


def demo_period() -> str:
    """The two-month period the demo's records fall in (most of their dates lie within
    two months before ``DEMO_DATE``)."""
    from connectors.demo.generator import DEMO_DATE  # noqa: PLC0415 - light, but demo only

    return two_month_period(DEMO_DATE - timedelta(days=30))


def _feed_demo(
    running: HubSettings, registry_url: str, consent: ConsentRuntime, people: int, seed: int
) -> None:
    """Generate exports and consents for ``people``; grant the consents, then feed the files."""
    from connectors.demo import feed_demo, generate  # noqa: PLC0415 - only with --demo

    directory = running.data_dir / "demo"
    generate(directory, people=people, seed=seed, partners=load_partners(running.partners_file))
    summary = feed_demo(
        running,
        directory,
        registry_url=registry_url,
        console=console,
        consent_service=consent.service,
    )
    console.print(summary.table())
    console.print(summary.summary())


def _registry(stack: ExitStack, running: HubSettings) -> tuple[str, KafkaSchemaStore | None]:
    """The registry URL, and the embedded registry's store (None for an external one)."""
    if running.schema_registry_url:
        return running.schema_registry_url, None
    registry = stack.enter_context(EmbeddedRegistry(running))
    return registry.url, registry.store


def _continuity_at_start(guard: ContinuityGuard, embedded: bool) -> ContinuityReport:
    report = guard.establish()
    if not report.lost:
        console.print(report.message(), highlight=False)
    elif embedded:
        remembered = report.remembered
        assert remembered is not None
        console.print(
            "[bold yellow]the embedded broker keeps data in memory only:[/] what the previous "
            f"run held (incarnation {remembered.id}, stamped "
            f"{remembered.stamped_at:%Y-%m-%d %H:%M} UTC) is gone. The consent feed is "
            "rebuilt from the consent register; partners replay their files.",
            highlight=False,
        )
    else:
        console.print(Panel(report.message(), title="BROKER DATA LOSS", style="bold red"))
    return report


def _continuity_panel(guardian: Guardian | None) -> Panel | None:
    if guardian is None or guardian.state == "ok":
        return None
    style = {"recovered": "bold yellow", "lost": "bold red", "failed": "bold red"}
    title = {"recovered": "recovered from a broker data loss", "lost": "BROKER DATA LOSS"}
    return Panel(
        guardian.headline,
        title=title.get(guardian.state, "BROKER DATA LOSS: recovery failed"),
        style=style.get(guardian.state, "bold red"),
    )


def _watch(
    counter: TrafficCounter,
    *,
    once: bool,
    settle_s: float = 60.0,
    guardian: Guardian | None = None,
) -> None:
    started = time.monotonic()
    with _Shutdown() as shutdown, Live(console=console, refresh_per_second=2) as live:
        while not shutdown.event.is_set():
            snapshot = counter.snapshot()
            table = _traffic_table(snapshot, started)
            panel = _continuity_panel(guardian)
            live.update(Group(panel, table) if panel is not None else table)
            if once and (snapshot.router_lag == 0 or time.monotonic() - started > settle_s):
                return
            shutdown.event.wait(1.0)
        console.print(f"{shutdown.signal_name} received, stopping.")


def _broker_flavour(settings: HubSettings, broker: EmbeddedBroker | None) -> str:
    """Which broker runs, why, and where its data is, in one line."""
    if broker is None:
        return "external cluster"
    keeps = f"data in {settings.data_dir / 'kafka'}" if broker.persistent else "memory-only"
    return f"embedded {choose_broker(settings).describe()}, {keeps}"


@handle_errors
def up(
    bootstrap_servers: str | None = BootstrapOption,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Exit when the self-check (and the demo) is done, not on Ctrl-C."
        ),
    ] = False,
    demo: Annotated[
        int,
        typer.Option(
            "--demo", metavar="PEOPLE", help="Generate and feed demo data for this many people."
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the demo data.")] = 2021,
    selfcheck_only: Annotated[
        bool,
        typer.Option(
            "--selfcheck-only", help="Broker, topics, registry and self-check; no services."
        ),
    ] = False,
) -> None:
    """Run the whole hub: broker, topics, registry, consent service, router, demo feed."""
    settings = settings_for(bootstrap_servers)
    configure_logging(settings)
    require_safe_start(settings, "rmt-hub up", subject_keys=True)
    with ExitStack() as stack:
        running, broker = stack.enter_context(running_broker(settings))
        flavour = _broker_flavour(settings, broker)
        console.print(f"[bold]bootstrap servers:[/] {running.bootstrap_servers}  ({flavour})")
        catalogue = build_catalogue(running)
        _apply_topics(running, catalogue)
        guard = ContinuityGuard(running)
        at_start = _continuity_at_start(guard, embedded=broker is not None)
        registry_url, schema_store = _registry(stack, running)
        kind = "external" if running.schema_registry_url else "embedded"
        console.print(f"[bold]schema registry:[/] {registry_url}  ({kind})")
        codec = CanonicalCodec(client_for(running, registry_url))
        ids = codec.register(load_schemas().messages())
        console.print(f"registered {len(ids)} message schemas (RecordNameStrategy)")
        _selfcheck(running, catalogue, codec)
        if selfcheck_only:
            return
        _ensure_keys(running)

        audit_topic = f"{running.topic_prefix}.audit.disclosures"
        consent = stack.enter_context(
            ConsentRuntime(
                running,
                encoder=wire_encoder(codec, catalogue.consent_changes.name),
                disclosure_decoder=typed_decoder(codec, audit_topic, DisclosureEvent),
            )
        )
        server = HttpServer(
            consent.app,
            host=running.consent_host,
            port=running.consent_port,
            name="consent",
            trusted_proxies=running.trusted_proxy_list,
        )
        consent_url = server.start()
        stack.callback(server.stop)
        worker = _start_router(stack, running, registry_url)
        console.print(f"[bold]router:[/] worker pid {worker.pid} (log: {worker.log_file})")
        metrics_port = (worker.status() or {}).get("metrics_port")
        if metrics_port:
            console.print(
                f"[bold]router metrics:[/] http://{running.embedded_host}:{metrics_port}/metrics"
            )
        console.print(f"[bold]consent API:[/] {consent_url}/docs")
        console.print(f"[bold]privacy officer console:[/] {consent_url}/console")
        console.print(_run_officer_key(stack, consent))
        monitor = _start_monitor(stack, running, registry_url)
        period = demo_period()
        console.print(f"[bold]monitor:[/] worker pid {monitor.pid} (log: {monitor.log_file})")
        console.print(
            f"[bold]monitor dashboard:[/] {monitor.report_url(period)}",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"[bold]monitor report:[/] rmt-hub monitor report --period {period} --format html"
        )

        partners: list[str] = [str(p.id) for p in load_partners(running.partners_file)]
        counter = TrafficCounter(running, catalogue, codec, partners).start()
        stack.callback(counter.stop)
        if at_start.lost:
            guard.stamp()  # everything above started on what the cluster holds now
        guardian = _guardian(
            guard,
            broker,
            running,
            catalogue,
            schema_store=schema_store,
            consent=consent,
            workers=[worker, monitor],
            counter=counter,
            replay=(lambda: _feed_demo(running, registry_url, consent, demo, seed))
            if demo
            else None,
        ).start()
        stack.callback(guardian.stop)
        if demo:
            _feed_demo(running, registry_url, consent, demo, seed)
        if once and not demo:
            return
        _watch(counter, once=once, guardian=guardian)


RUN_KEY_NAME = "rmt-hub-up"
"""The name of the privacy-officer key each run of ``up`` issues (and revokes at its end)."""


def _run_officer_key(stack: ExitStack, consent: ConsentRuntime) -> str:
    """Issue a privacy-officer key for this run, revoked when the run stops (and at the
    next start, should this run be killed); the line to print shows it only when the
    output is a terminal, so it never lands in a container log."""
    record, key = issue_run_key(consent.store, Role.PRIVACY_OFFICER, RUN_KEY_NAME)

    def revoke() -> None:
        consent.store.revoke_api_key(record.key_id, utc_now())

    stack.callback(revoke)
    if console.file.isatty():
        return f"[bold]privacy officer API key[/] (this run only): {key}"
    return (
        "[bold]privacy officer API key:[/] not shown (the output is not a terminal); "
        "make one with: rmt-hub consent keys add --role privacy_officer --name NAME"
    )


def _guardian(
    guard: ContinuityGuard,
    broker: EmbeddedBroker | None,
    running: HubSettings,
    catalogue: TopicCatalogue,
    *,
    schema_store: KafkaSchemaStore | None,
    consent: ConsentRuntime,
    workers: list[RouterProcess | MonitorProcess],
    counter: TrafficCounter,
    replay: Callable[[], None] | None,
) -> Guardian:
    """Watch broker continuity; on a loss recover in hub.recovery's order, then replay the
    demo feed (with --demo) or tell the partners to replay."""

    def steps() -> list[RecoveryStep]:
        found = [stop_workers(workers), apply_topics(running, catalogue)]
        if schema_store is not None:
            found.append(republish_schemas(schema_store))
        found += [rebuild_consent_feed(consent.relay), start_workers(workers)]
        found.append(RecoveryStep("traffic view", recount))
        return found

    def recount() -> str:
        counter.restart()
        return "counting what the topics hold now"

    def replays() -> list[RecoveryStep]:
        if replay is None:
            return [RecoveryStep("partners", lambda: "must replay from their connectors")]

        def run() -> str:
            replay()
            return "demo files fed again through the connectors"

        return [RecoveryStep("demo replay", run)]

    return Guardian(guard, steps=steps, replay=replays, broker=broker)
