"""`topics apply` against the session's real broker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from kafka.admin import NewTopic

from hub.config import HubSettings
from hub.kafka import admin_client, create_topics
from topics import Action, apply_catalogue, build_catalogue

pytestmark = pytest.mark.integration


@pytest.fixture
def isolated(hub_settings: HubSettings) -> HubSettings:
    """Settings with a topic prefix of their own, so tests never share topics."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    return hub_settings.model_copy(
        update={"topic_prefix": prefix, "schema_registry_topic": f"{prefix}._schemas"}
    )


def test_apply_creates_everything_then_has_nothing_to_change(isolated: HubSettings) -> None:
    catalogue = build_catalogue(isolated)
    admin = admin_client(isolated)
    try:
        first = apply_catalogue(admin, catalogue)
        assert first.changed
        assert {c.action for c in first.changes} == {Action.CREATE}
        assert all(c.done for c in first.changes)

        described = admin.describe_topics(catalogue.names())
        partitions = {d["name"]: len(d["partitions"]) for d in described}
        assert partitions == {t.name: t.partitions for t in catalogue}

        second = apply_catalogue(admin, catalogue)
        assert not second.changed
        assert {c.action for c in second.changes} == {Action.UNCHANGED}
        assert (
            second.summary()
            == f"nothing to change: all {len(catalogue)} topics match the catalogue"
        )
    finally:
        admin.close()


def test_dry_run_changes_nothing(isolated: HubSettings) -> None:
    catalogue = build_catalogue(isolated)
    admin = admin_client(isolated)
    try:
        report = apply_catalogue(admin, catalogue, dry_run=True)
        assert len(report.pending) == len(catalogue)
        assert report.summary().startswith(f"would apply: {len(catalogue)} create")
        assert not set(catalogue.names()) & set(admin.list_topics())
    finally:
        admin.close()


def test_too_few_partitions_is_repaired_or_reported(isolated: HubSettings) -> None:
    catalogue = build_catalogue(isolated)
    target = catalogue.consent_changes
    admin = admin_client(isolated)
    try:
        create_topics(admin, [NewTopic(target.name, 1, 1)])
        report = apply_catalogue(admin, catalogue)
        change = next(c for c in report.changes if c.topic.name == target.name)
        if change.action is Action.ADD_PARTITIONS:  # Apache Kafka
            assert change.done
        else:  # a broker without CreatePartitions (the embedded one) must not be silent
            assert change.action is Action.DRIFT
            assert "1 -> 4" in change.detail
            assert "refused" in change.detail
            assert change in report.pending
    finally:
        admin.close()


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_apply_twice_reports_nothing_to_change_the_second_time(
    isolated: HubSettings,
) -> None:
    assert isolated.bootstrap_servers is not None
    env = {
        **os.environ,
        "HUB_BOOTSTRAP_SERVERS": isolated.bootstrap_servers,
        "HUB_TOPIC_PREFIX": isolated.topic_prefix,
        "HUB_SCHEMA_REGISTRY_TOPIC": isolated.schema_registry_topic,
        "COLUMNS": "200",
    }
    first = _cli("topics", "apply", env=env)
    assert first.returncode == 0, first.stderr
    assert "create" in first.stdout
    second = _cli("topics", "apply", env=env)
    assert second.returncode == 0, second.stderr
    assert "nothing to change: all" in second.stdout


def test_cli_apply_without_a_cluster_explains_what_to_do() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HUB_BOOTSTRAP_SERVERS"}
    result = _cli("topics", "apply", env=env)
    assert result.returncode == 1
    assert "HUB_BOOTSTRAP_SERVERS" in result.stderr
    assert "Traceback" not in result.stderr
