"""Crash tests: the service process dies between commit and publish (and between the
broker's acknowledgement and marking the outbox row); after a restart the change is on
the topic exactly once. Run against SQLite and PostgreSQL, on the real broker."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from consent.api import issue_key
from consent.faults import CRASH_AFTER_COMMIT, CRASH_AFTER_PUBLISH, CRASH_EXIT_CODE
from consent.model import ConsentChangeType, Role
from consent.store import ConsentStore, store_for
from hub.config import HubSettings
from hub.ids import ClientPseudonym
from tests.consent.factories import grant_body
from tests.consent.feed import event_ids, read_topic
from tests.helpers.consent import consent_settings, delete_topic
from tests.helpers.waiting import wait_until

REPO = Path(__file__).parents[2]
TEST_MASTER_KEY = "c3ViamVjdC1rZXlzLW1hc3Rlci1rZXktb2YtdGVzdHM="


class ServiceProcess:
    """``rmt-hub consent serve`` in a child process; ``url`` once it listens."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.consent.helpers.consent_cli", "serve"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.url = self._wait_for_url(timeout_s=60)

    def _wait_for_url(self, timeout_s: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"consent service exited with {self.proc.returncode}")
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline().decode()
                if "listening on " in line:
                    return line.split("listening on ", 1)[1].split()[0]
        self.stop()
        raise AssertionError("consent service did not start listening")

    def wait(self, timeout_s: float = 30) -> int:
        return self.proc.wait(timeout_s)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


@pytest.fixture
def crash_env(
    hub_settings: HubSettings, database_url: str, tmp_path: Path
) -> Iterator[tuple[HubSettings, dict[str, str], str]]:
    settings = consent_settings(hub_settings, database_url, tmp_path)
    store = store_for(settings)
    try:
        _, key = issue_key(store, Role.PRIVACY_OFFICER, "officer-crash")
    finally:
        store.close()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HUB_") or k == "HUB_TEST_PG_BIN"
    }
    env |= {
        "PYTHONPATH": str(REPO),
        "HUB_BOOTSTRAP_SERVERS": str(settings.bootstrap_servers),
        "HUB_DATABASE_URL": database_url,
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_PSEUDONYM_KEY": "consent-crash-test-pseudonym-key",  # an external cluster's demand
        "HUB_SUBJECT_MASTER_KEY": TEST_MASTER_KEY,  # another (shared by every replica)
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "HUB_CONSENT_PORT": "0",
        "HUB_LOG_LEVEL": "WARNING",
    }
    yield settings, env, key
    delete_topic(settings, f"{settings.topic_prefix}.consent.changes")


def _changes_for(settings: HubSettings, subject: str) -> list[str]:
    records = read_topic(settings, f"{settings.topic_prefix}.consent.changes")
    return event_ids([r for r in records if r.key == subject.encode()])


def _wait_published(store: ConsentStore, event_id: str, timeout_s: float = 30) -> None:

    def published() -> bool:
        row = store.outbox_row(event_id)  # type: ignore[arg-type]
        return row is not None and row.published_at is not None

    wait_until(published, timeout_s=timeout_s, what=f"{event_id} published", interval_s=0.05)


@pytest.mark.parametrize("point", [CRASH_AFTER_COMMIT, CRASH_AFTER_PUBLISH])
def test_a_change_survives_a_crash_and_is_published_exactly_once(
    crash_env: tuple[HubSettings, dict[str, str], str], tmp_path: Path, point: str
) -> None:
    settings, env, key = crash_env
    subject = f"client-crash-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    log = tmp_path / "service.log"

    doomed = ServiceProcess(env | {point: "1"}, log)
    try:
        with pytest.raises(httpx.TransportError):  # the process dies mid-request
            httpx.post(
                f"{doomed.url}/v1/consents",
                json=grant_body(subject),
                headers={"X-API-Key": key},
                timeout=30,
            )
        assert doomed.wait() == CRASH_EXIT_CODE
    finally:
        doomed.stop()

    store = store_for(settings)
    try:
        # committed: the event and its outbox row are there, the row not marked published
        events = store.events(subject=ClientPseudonym(subject))
        assert [e.change for e in events] == [ConsentChangeType.GIVEN]
        event_id = events[0].event_id
        row = store.outbox_row(event_id)
        assert row is not None
        assert row.published_at is None
        on_topic = _changes_for(settings, subject)
        assert on_topic == ([] if point == CRASH_AFTER_COMMIT else [event_id])

        restarted = ServiceProcess(env, log)
        try:
            _wait_published(store, event_id)
            assert _changes_for(settings, subject) == [event_id]  # exactly once
            # and the service goes on: a withdrawal returns once published
            consent_id = events[0].consent_id
            response = httpx.post(
                f"{restarted.url}/v1/consents/{consent_id}/withdraw",
                headers={"X-API-Key": key},
                timeout=30,
            )
            assert response.status_code == 200, response.text
        finally:
            restarted.stop()
        assert restarted.proc.returncode == 0
        changes = _changes_for(settings, subject)
        assert len(changes) == 2
        assert changes[0] == event_id
        assert store.pending_outbox() == []
    finally:
        store.close()
