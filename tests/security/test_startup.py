"""Production refuses to be unsafe (issue 16, part 5): the start check of every
long-running command on an external cluster, at unit level and through the commands."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import _register, app
from hub.config import HubSettings
from hub.errors import ConfigError
from hub.security.startup import check_start, key_storage_problem, start_problems

runner = CliRunner(env={"COLUMNS": "200"})

CLUSTER = "kafka-1:9092"
KEY = "c2VjcmV0LXBzZXVkb255bS1rZXktb2YtdGhlLXRlc3Rz"
MASTER = "bWFzdGVyLWtleS1vZi10aGUtc3ViamVjdC1rZXktdGVzdHM="
DISK = [("/", "ext4")]


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No HUB_ setting of the session (nor a stray .env) leaks into these settings."""
    import os  # noqa: PLC0415

    for name in list(os.environ):
        if name.startswith("HUB_") and name != "HUB_EMBEDDED_BROKER":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings(**overrides: Any) -> HubSettings:
    base: dict[str, Any] = {
        "bootstrap_servers": CLUSTER,
        "pseudonym_key": KEY,
        "keys_dir": Path("/var/lib/rmt-hub/keys"),
        "subject_master_key": MASTER,
        "database_url": "postgresql://rmt_hub@postgres:5432/rmt_hub",
    }
    return HubSettings(**(base | overrides))


def test_a_complete_production_start_passes() -> None:
    assert start_problems(settings(), mounts=DISK) == []
    check_start(settings(), "rmt-hub router", mounts=DISK)


def test_the_embedded_broker_is_not_checked() -> None:
    development = HubSettings(security_enabled=False)
    assert development.embedded
    assert start_problems(development, mounts=[("/", "tmpfs")]) == []


def test_regression_external_cluster_started_without_pseudonym_key() -> None:
    with pytest.raises(ConfigError, match="HUB_PSEUDONYM_KEY is not set") as refused:
        check_start(settings(pseudonym_key=None), "rmt-hub router", mounts=DISK)
    assert "rmt-hub router refuses to start" in str(refused.value)
    assert CLUSTER in str(refused.value)


def test_regression_external_cluster_started_with_security_off() -> None:
    with pytest.raises(ConfigError, match="HUB_SECURITY_ENABLED=false"):
        check_start(settings(security_enabled=False), "rmt-hub consent serve", mounts=DISK)


def test_the_override_starts_anyway_and_says_so_loudly(caplog: pytest.LogCaptureFixture) -> None:
    unsafe = settings(security_enabled=False, pseudonym_key=None, allow_insecure=True)
    with caplog.at_level(logging.CRITICAL, logger="hub.security.startup"):
        check_start(unsafe, "rmt-hub router", mounts=DISK)
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 2
    assert all("INSECURE START of rmt-hub router" in line for line in critical)
    assert any("HUB_SECURITY_ENABLED=false" in line for line in critical)
    assert any("HUB_PSEUDONYM_KEY" in line for line in critical)


def test_regression_replicas_would_not_share_the_subject_keys() -> None:
    """Each router replica kept its subject keys in a SQLite file of its own, under a
    master key it generated: replicas sealed one subject's fields with different keys,
    and a rebuilt container lost them all."""
    with pytest.raises(ConfigError, match="HUB_SUBJECT_MASTER_KEY is not set"):
        check_start(settings(subject_master_key=None), "rmt-hub router", mounts=DISK)
    with pytest.raises(ConfigError, match="HUB_DATABASE_URL is not set"):
        check_start(settings(database_url=None), "rmt-hub consent serve", mounts=DISK)
    # nothing is sealed with record security off (refused for its own reason)
    problems = start_problems(settings(security_enabled=False, database_url=None), mounts=DISK)
    assert not any("HUB_DATABASE_URL" in p for p in problems)
    # nor by the commands that hold no subject keys (monitor, registry, webhook)
    unshared = settings(subject_master_key=None, database_url=None)
    assert start_problems(unshared, mounts=DISK, subject_keys=False) == []


def test_regression_key_store_not_placed_explicitly() -> None:
    unplaced = HubSettings(bootstrap_servers=CLUSTER, pseudonym_key=KEY)
    problem = key_storage_problem(unplaced, mounts=DISK)
    assert problem is not None
    assert "HUB_KEYS_DIR" in problem


def test_regression_key_store_in_the_container_layer_or_in_memory() -> None:
    for fstype in ("overlay", "tmpfs"):
        mounts = [("/", fstype), ("/srv", "ext4")]
        with pytest.raises(ConfigError, match=f"HUB_KEYS_DIR.*{fstype}|{fstype}.*HUB_KEYS_DIR"):
            check_start(settings(), "rmt-hub up", mounts=mounts)
    # a volume mounted at the key store (or above it) is persistent
    assert key_storage_problem(settings(), mounts=[("/", "overlay"), ("/var/lib", "xfs")]) is None
    # the data dir names the key store when HUB_KEYS_DIR is unset
    on_data_dir = settings(keys_dir=None, data_dir=Path("/run/hub"))
    problem = key_storage_problem(on_data_dir, mounts=[("/", "ext4"), ("/run", "tmpfs")])
    assert problem is not None
    assert "HUB_DATA_DIR" in problem
    assert "/run/hub/keys" in problem


def test_regression_relative_key_store() -> None:
    problem = key_storage_problem(settings(keys_dir=Path("keys")), mounts=DISK)
    assert problem is not None
    assert "absolute" in problem


@pytest.mark.parametrize(
    "command",
    [
        ["up"],
        ["router"],
        ["consent", "serve"],
        ["monitor", "aggregate"],
        ["registry"],
        ["connect", "webhook", "--partner", "sp-vakbonden"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_regression_every_long_running_command_refuses_an_unsafe_start(
    command: list[str], tmp_path: Path
) -> None:
    _register()
    result = runner.invoke(
        app,
        command,
        env={
            "HUB_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # never contacted: refused before
            "HUB_DATA_DIR": str(tmp_path),
            "HUB_SECURITY_ENABLED": "false",
        },
    )
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert f"rmt-hub {command[0]}" in output
    assert "refuses to start" in output
    assert "HUB_PSEUDONYM_KEY" in output
    assert "HUB_SECURITY_ENABLED=false" in output
