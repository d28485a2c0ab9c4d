"""Running router workers: in this process (:func:`run_worker`), or as subprocesses
(:func:`run_router`, :class:`RouterProcess`) for ``rmt-hub up``, tests and benchmarks.

A worker needs the cluster (``HUB_BOOTSTRAP_SERVERS``) with the catalogue's topics, and a
schema registry: ``HUB_SCHEMA_REGISTRY_URL``, or, when that is unset, an embedded
registry this process serves on a free port over the shared ``_schemas`` topic (every
registry process on that topic hands out the same ids). Subprocesses get the settings
through the ``HUB_*`` environment and the :class:`RouterOptions` as JSON in
``HUB_ROUTER_OPTIONS``; they die with their parent (``PR_SET_PDEATHSIG`` on Linux).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kafka import TopicPartition

from hub.config import HubSettings
from hub.errors import HubError
from hub.registry import client_for
from hub.router.errors import RouterError
from hub.router.options import OPTIONS_ENV, RouterOptions
from hub.supervise import WorkerProcess
from topics.catalogue import TopicCatalogue, build_catalogue
from topics.partners import load_partners

__all__ = ["RouterProcess", "router_lag", "run_router", "run_worker"]

_LOG = logging.getLogger(__name__)


@contextmanager
def _registry_url(settings: HubSettings) -> Iterator[str]:
    if settings.schema_registry_url:
        yield settings.schema_registry_url
        return
    from hub.registry.embedded import EmbeddedRegistry  # noqa: PLC0415 - FastAPI only if needed

    with EmbeddedRegistry(settings, port=0) as registry:
        yield registry.url


def run_worker(settings: HubSettings, options: RouterOptions | None = None) -> None:
    """Run one router worker in this process until SIGINT/SIGTERM (blocks; exits the process)."""
    from hub.router.app import build_app, run_app  # noqa: PLC0415 - faust only when running
    from hub.router.engine import RouterEngine  # noqa: PLC0415
    from hub.router.monitoring import MonitorFeed  # noqa: PLC0415

    options = options or RouterOptions()
    if settings.embedded:
        raise RouterError("the router needs a running cluster: set HUB_BOOTSTRAP_SERVERS")
    with _registry_url(settings) as url:
        registry = client_for(settings, url)
        catalogue = build_catalogue(settings)
        engine = RouterEngine(
            settings,
            catalogue=catalogue,
            directory=load_partners(settings.partners_file),
            registry=registry,
            status_file=options.status_file,
        )
        if options.monitor_events:
            engine.core.monitor = MonitorFeed.from_settings(settings, catalogue)
        with _observability(engine, options):
            run_app(build_app(settings, engine, options), options.log_level)


@contextmanager
def _observability(engine: Any, options: RouterOptions) -> Iterator[None]:
    """``/metrics``, ``/healthz`` and ``/readyz`` (ready: every assigned partition loaded)
    on ``options.metrics_port`` while the worker runs; the bound port goes into the status.
    A port that cannot be bound is logged, not fatal: routing matters more than metrics."""
    port = options.metrics_port
    if port is None or port < 0:
        yield
        return
    from fastapi import FastAPI  # noqa: PLC0415 - only when serving

    from hub.http import HttpServer, HttpServerError  # noqa: PLC0415
    from hub.observability import observability_router  # noqa: PLC0415

    app = FastAPI(title="rmt-hub router", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(observability_router(engine.metrics, {"partitions": engine.check_loaded}))
    server = HttpServer(app, host=options.metrics_host, port=port, name="router-metrics")
    try:
        server.start()
    except HttpServerError as exc:
        _LOG.error("router: /metrics not served: %s", exc)
        yield
        return
    engine.metrics_port = server.port
    engine.write_status()
    try:
        yield
    finally:
        server.stop()


class RouterProcess(WorkerProcess):
    """A router worker in a subprocess (``python -m hub.router``)."""

    def __init__(
        self,
        settings: HubSettings,
        options: RouterOptions | None = None,
        *,
        log_file: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(settings, log_file=log_file, env=env)
        self.options = options or RouterOptions()

    def command(self) -> list[str]:
        return [sys.executable, "-m", "hub.router"]

    def extra_env(self) -> dict[str, str]:
        return {OPTIONS_ENV: self.options.model_dump_json()}

    def status(self) -> dict[str, Any] | None:
        """The worker's last status report (needs ``options.status_file``)."""
        path = self.options.status_file
        if path is None or not path.exists():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if data.get("pid") == self.pid else None

    def wait_ready(self, timeout_s: float = 60.0, *, partitions: int | None = None) -> None:
        """Block until the worker has loaded at least one partition (or ``partitions``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise RouterError(self.exit_message("router worker"))
            status = self.status()
            loaded = bool(status and status["ready"] and status["ready"] == status["assigned"])
            if status and loaded and (partitions is None or len(status["ready"]) >= partitions):
                return
            time.sleep(0.1)
        raise RouterError(f"router worker not ready within {timeout_s:.0f}s")


def router_lag(
    settings: HubSettings,
    catalogue: TopicCatalogue | None = None,
    group_id: str | None = None,
    *,
    timeout_s: float = 15.0,
) -> dict[TopicPartition, int]:
    """Records the router has not routed yet, per partition of the outboxes and the
    repartition topic (where records published to another partition than their key
    hashes to wait, moved but not yet routed): the partition's
    fetch high watermark minus the offset the router's consumer group committed (0 when
    none is committed: every record is behind).

    High watermarks come from a fetch response, never from ``end_offsets()`` (which the
    embedded broker answers with the start of the last batch + 1). The router commits
    only what it has routed and written, so a lag of 0 everywhere means every record
    published so far is routed. ``group_id``: the router's group (default
    ``<topic prefix>-router``).
    """
    from hub.kafka import admin_client, consumer  # noqa: PLC0415 - kafka-python only when asked

    catalogue = catalogue or build_catalogue(settings)
    group = group_id or f"{settings.topic_prefix}-router"
    tps = [
        TopicPartition(t.name, p)
        for t in (*catalogue.outboxes(), catalogue.repartition)
        for p in range(settings.topic_partitions)
    ]
    reader = consumer(settings, group_id=None, fetch_max_wait_ms=10, max_poll_records=1)
    admin = admin_client(settings)
    try:
        # committed offsets first, high watermarks after: a record the router moved before
        # committing its outbox offset is then already counted on the repartition topic
        committed = admin.list_group_offsets({group: tps}).get(group, {})
        reader.assign(tps)
        reader.seek_to_end(*tps)  # the broker may answer short of the end: the fetch corrects
        deadline = time.monotonic() + timeout_s
        highwater: dict[TopicPartition, int] = {}
        while len(highwater) < len(tps):
            if time.monotonic() > deadline:
                raise RouterError(f"no high watermark for {len(tps) - len(highwater)} partitions")
            reader.poll(timeout_ms=50)
            for tp in tps:
                known = reader.highwater(tp)
                if known is not None:
                    highwater[tp] = known
    finally:
        reader.close()
        admin.close()
    lag = {}
    for tp in tps:
        meta = committed.get(tp)
        done = max(0, int(getattr(meta, "offset", meta) or 0)) if meta is not None else 0
        lag[tp] = max(0, highwater[tp] - done)
    return lag


@contextmanager
def run_router(
    settings: HubSettings,
    options: RouterOptions | None = None,
    *,
    log_file: Path | None = None,
) -> Iterator[RouterProcess]:
    """A router worker subprocess for the duration of the block (``rmt-hub up`` uses this)."""
    worker = RouterProcess(settings, options, log_file=log_file).start()
    try:
        yield worker
    except HubError:
        raise
    finally:
        worker.stop()
