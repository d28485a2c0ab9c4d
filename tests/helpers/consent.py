"""The consent service for tests: settings with a database and topic prefix of their
own, and the service running over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from consent.api import issue_key
from consent.model import Role
from consent.runtime import ConsentRuntime
from hub.config import HubSettings
from hub.http import HttpServer
from hub.kafka import admin_client
from tests.consent.factories import grant_body


def consent_settings(base: HubSettings, database_url: str, data_dir: Path) -> HubSettings:
    """Settings on the session broker with this database and a topic prefix of their own."""
    return base.model_copy(
        update={
            "database_url": database_url,
            "data_dir": data_dir,
            "topic_prefix": f"t{uuid.uuid4().hex[:10]}",
            "topic_partitions": 2,
        }
    )


def delete_topic(settings: HubSettings, topic: str) -> None:
    admin = admin_client(settings)
    try:
        admin.delete_topics([topic])
    except Exception:
        pass
    finally:
        admin.close()


@dataclass
class ConsentApi:
    """The consent service running over HTTP, with a key for each kind of caller."""

    runtime: ConsentRuntime
    url: str
    keys: dict[str, str]
    database: str

    def client(self, who: str) -> httpx.Client:
        headers = {"X-API-Key": self.keys[who]} if who in self.keys else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def running_consent_api(settings: HubSettings, database: str) -> Iterator[ConsentApi]:
    """The consent service on ``settings`` over HTTP (port 0), with a key per kind of caller;
    stopped, and its change topic deleted, on exit."""
    runtime = ConsentRuntime(settings)
    keys = {
        "officer": issue_key(runtime.store, Role.PRIVACY_OFFICER, "officer-1")[1],
        "uwv": issue_key(runtime.store, Role.PARTNER, "uwv-system", "uwv")[1],
        "amsterdam": issue_key(runtime.store, Role.PARTNER, "adam", "gemeente-amsterdam")[1],
        "sbb": issue_key(runtime.store, Role.PARTNER, "sbb-system", "sbb")[1],
        "monitor": issue_key(runtime.store, Role.MONITOR, "monitor-1")[1],
    }
    runtime.start()
    http = HttpServer(runtime.app, name="consent-test", trusted_proxies=settings.trusted_proxy_list)
    try:
        base = http.start()
        yield ConsentApi(runtime, base, keys, database)
    finally:
        http.stop()
        runtime.stop()
        delete_topic(settings, runtime.topic)
        if runtime.ingester is not None:
            delete_topic(settings, runtime.ingester.topic)


def granted(api: ConsentApi, subject: str, **overrides: Any) -> dict[str, Any]:
    """A consent the officer granted over HTTP (the factory's body with ``overrides``)."""
    with api.client("officer") as officer:
        response = officer.post("/v1/consents", json=grant_body(subject, **overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
