"""The monitor worker as a subprocess (:func:`run_monitor`, :class:`MonitorProcess`), for
``rmt-hub up``, tests and benchmarks.

It runs ``rmt-hub monitor aggregate`` (``python -m hub monitor aggregate``) with a web
port of its own; the settings travel as the ``HUB_*`` environment, as for the router
(:mod:`hub.router.runtime`), and the worker dies with its parent (``PR_SET_PDEATHSIG``
on Linux). It is ready once ``GET /monitor/status`` answers: the worker rebuilds its
figures from the monitor topic before it serves anything.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from hub.broker._process import pick_free_port
from hub.config import HubSettings
from hub.monitor.errors import MonitorError
from hub.supervise import WorkerProcess

__all__ = ["MonitorProcess", "run_monitor"]

_HOST = "127.0.0.1"  # the worker serves on loopback only


class MonitorProcess(WorkerProcess):
    """A monitor aggregator worker in a subprocess, serving its figures on ``web_port``."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        web_port: int = 0,
        topic: str | None = None,
        app_id: str | None = None,
        threshold: int | None = None,
        loglevel: str = "WARNING",
        log_file: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """``web_port`` 0: a free port, picked now. ``env``: extra environment of the worker."""
        super().__init__(settings, log_file=log_file, env=env)
        self.web_port = web_port or pick_free_port(_HOST)
        self.topic = topic
        self.app_id = app_id
        self.threshold = threshold
        self.loglevel = loglevel

    @property
    def url(self) -> str:
        """The worker's web root, ``http://127.0.0.1:PORT``."""
        return f"http://{_HOST}:{self.web_port}"

    def report_url(self, period: str, *, region: str | None = None, fmt: str = "html") -> str:
        """The URL of the report of ``period`` (the dashboard, with ``fmt="html"``)."""
        query = {"period": period} | ({"region": region} if region else {}) | {"format": fmt}
        return f"{self.url}/monitor/report?{urlencode(query, safe='/')}"

    def command(self) -> list[str]:
        # --supervised: the supervising command (rmt-hub up) checked the start itself
        args = [sys.executable, "-m", "hub", "monitor", "aggregate", "--supervised"]
        args += ["--web-port", str(self.web_port), "--loglevel", self.loglevel]
        if self.topic:
            args += ["--topic", self.topic]
        if self.app_id:
            args += ["--app-id", self.app_id]
        if self.threshold is not None:
            args += ["--threshold", str(self.threshold)]
        return args

    def status(self) -> dict[str, Any] | None:
        """``GET /monitor/status``, or None while the worker does not answer."""
        try:
            answer = httpx.get(f"{self.url}/monitor/status", timeout=2.0)
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        try:
            data: dict[str, Any] = answer.json()
        except ValueError:
            return None
        return data

    def wait_ready(
        self,
        timeout_s: float = 90.0,
        *,
        until: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Block until ``/monitor/status`` answers (and ``until(status)`` holds); returns it."""
        deadline = time.monotonic() + timeout_s
        status: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise MonitorError(self.exit_message("monitor worker"))
            status = self.status()
            if status is not None and (until is None or until(status)):
                return status
            time.sleep(0.2)
        raise MonitorError(f"monitor worker not ready within {timeout_s:.0f}s (status: {status})")


@contextmanager
def run_monitor(
    settings: HubSettings,
    *,
    web_port: int = 0,
    topic: str | None = None,
    app_id: str | None = None,
    log_file: Path | None = None,
    loglevel: str = "WARNING",
) -> Iterator[MonitorProcess]:
    """A monitor worker subprocess for the duration of the block (``rmt-hub up`` uses this)."""
    worker = MonitorProcess(
        settings,
        web_port=web_port,
        topic=topic,
        app_id=app_id,
        log_file=log_file,
        loglevel=loglevel,
    ).start()
    try:
        yield worker
    finally:
        worker.stop()
