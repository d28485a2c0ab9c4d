"""The registry's state lives in its Kafka topic: restarts and several registries agree."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hub.config import HubSettings
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry

pytestmark = pytest.mark.integration


def record(name: str, *fields: str) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "namespace": "t",
        "fields": [{"name": f, "type": ["null", "string"], "default": None} for f in fields],
    }


@pytest.fixture
def settings(hub_settings: HubSettings, unique_name: Callable[[str], str]) -> HubSettings:
    return hub_settings.model_copy(update={"schema_registry_topic": unique_name("schemas")})


def view(client: RegistryClient) -> dict[str, list[tuple[int, int]]]:
    """Subject -> [(version, id)] as the registry serves it."""
    result: dict[str, list[tuple[int, int]]] = {}
    for subject in client.subjects():
        result[subject] = [
            (v, client.version(subject, v).schema_id) for v in client.versions(subject)
        ]
    return result


def test_ids_versions_configs_and_deletes_survive_a_restart(settings: HubSettings) -> None:
    with EmbeddedRegistry(settings, port=0) as first, RegistryClient(first.url) as client:
        a1 = client.register("a", record("A"))
        a2 = client.register("a", record("A", "x"))
        b1 = client.register("b", record("B"))
        gone = client.register("c", record("C"))
        client.delete_subject("c")
        client.delete_subject("c", permanent=True)
        client.delete_version("a", 1)
        client.set_compatibility("FULL", subject="b")
        client.set_compatibility("FORWARD")
        before = view(client)
    assert before == {"a": [(2, a2)], "b": [(1, b1)]}
    assert a1 < a2 < b1 < gone

    with EmbeddedRegistry(settings, port=0) as second, RegistryClient(second.url) as client:
        assert view(client) == before
        assert client.compatibility("b") == "FULL"
        assert client.compatibility() == "FORWARD"
        assert json.loads(client.schema(a1).schema) == record("A")  # soft-deleted, still served
        assert client.register("a", record("A", "x")) == a2  # known schema: same id
        fresh = client.register("d", record("D"))
        assert fresh == gone + 1  # above every id ever handed out, the deleted one included
        assert client.versions("a") == [2]
        assert client.register("a", record("A", "x", "y")) == fresh + 1
        assert client.versions("a") == [2, 3]  # version 1 is soft-deleted, not reused


def test_two_registries_on_one_topic_never_hand_out_an_id_twice(settings: HubSettings) -> None:
    with (
        EmbeddedRegistry(settings, port=0) as one,
        EmbeddedRegistry(settings, port=0) as two,
        RegistryClient(one.url) as left,
        RegistryClient(two.url) as right,
    ):

        def register(job: tuple[RegistryClient, str, dict[str, Any]]) -> tuple[str, int]:
            client, subject, schema = job
            return subject, client.register(subject, schema)

        jobs = [(left, f"left-{i}", record(f"L{i}")) for i in range(6)]
        jobs += [(right, f"right-{i}", record(f"R{i}")) for i in range(6)]
        jobs += [(left, "shared", record("S", "l")), (right, "shared", record("S", "r"))]
        with ThreadPoolExecutor(max_workers=4) as pool:
            ids = dict(pool.map(register, jobs[::2] + jobs[1::2]))
        registered = [i for s, i in ids.items() if s != "shared"]
        assert len(set(registered)) == len(registered) == 12

        # Both registries read the same log, so both serve the same view.
        seen_left, seen_right = view(left), view(right)
        assert seen_left == seen_right
        shared = seen_left["shared"]
        assert [v for v, _ in shared] == [1, 2]
        assert len({i for _, i in shared}) == 2
        every_id = [i for versions in seen_left.values() for _, i in versions]
        assert len(every_id) == len(set(every_id)) == 14
