"""The consent service as a real process on a test hub: ``rmt-hub consent serve`` on the
hub's broker, topic prefix, data dir and registry, with a SQLite store in the test's tmp
(or the database given).

:class:`ConsentService` starts, stops (SIGTERM), kills (SIGKILL) and restarts it (the
process itself is :class:`tests.consent.test_crash.ServiceProcess`); :meth:`api` gives an
HTTP client with a privacy officer's key (issued in the store before the first start).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import httpx

from consent.api import issue_key
from consent.model import Role
from consent.store import ConsentStore, store_for
from hub.config import HubSettings
from hub.supervise import settings_env
from tests.consent.test_crash import ServiceProcess
from tests.router.helpers.hubtest import Hub

__all__ = ["ConsentService"]


class ConsentService:
    """``rmt-hub consent serve`` for ``hub``; ``url`` is the current process's address."""

    def __init__(
        self,
        hub: Hub,
        *,
        database_url: str | None = None,
        log_level: str = "INFO",
        log_json: bool = False,
    ) -> None:
        """``database_url``: the store (default: SQLite in the hub's tmp)."""
        self.settings: HubSettings = hub.settings.model_copy(
            update={"database_url": database_url or f"sqlite:///{hub.tmp / 'consent.db'}"}
        )
        self.log = hub.tmp / "consent-service.log"
        store = store_for(self.settings)
        try:
            _, self.key = issue_key(store, Role.PRIVACY_OFFICER, "officer-reliability")
        finally:
            store.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        self.env = (
            env
            | settings_env(self.settings)
            | {
                "PYTHONPATH": str(Path(__file__).parents[2]),
                "HUB_CONSENT_PORT": "0",
                "HUB_PSEUDONYM_KEY": "consent-faults-test-pseudonym-key",  # external cluster
                "HUB_SUBJECT_MASTER_KEY": "c3ViamVjdC1rZXlzLW1hc3Rlci1rZXktb2YtdGVzdHM=",
                "HUB_LOG_LEVEL": log_level,
                "HUB_LOG_JSON": str(log_json).lower(),
            }
        )
        self.process: ServiceProcess | None = None
        self.up = threading.Event()
        self.starts = 0

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.url

    def start(self) -> ConsentService:
        self.process = ServiceProcess(self.env, self.log)
        self.starts += 1
        self.up.set()
        return self

    def end(self, how: signal.Signals) -> int:
        """Stop the process with ``how`` (SIGTERM or SIGKILL); return its exit code."""
        assert self.process is not None
        self.up.clear()
        self.process.proc.send_signal(how)
        code = self.process.wait(60)
        self.process.stop()  # closes the pipes
        return code

    def restart(self, how: signal.Signals) -> int:
        code = self.end(how)
        self.start()
        return code

    def stop(self) -> None:
        if self.process is not None:
            self.up.clear()
            self.process.stop()

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, timeout=30)

    def store(self) -> ConsentStore:
        """The service's store, opened in this process (the caller closes it)."""
        return store_for(self.settings)
