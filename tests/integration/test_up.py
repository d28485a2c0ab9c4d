"""The README's run command, `rmt-hub up`, end to end in a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hub.config import HubSettings
from schemas import load_schemas

pytestmark = pytest.mark.integration


def _up(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", "up", "--once", *args],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        timeout=180,
        check=False,
    )


def _env_without_hub_settings() -> dict[str, str]:
    """The environment less every HUB_ setting but the broker choice (the CI smoke run on
    Tansu sets HUB_EMBEDDED_BROKER=tansu)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HUB_") or k == "HUB_EMBEDDED_BROKER"
    }


def _expected_broker() -> str:
    return "Tansu" if os.environ.get("HUB_EMBEDDED_BROKER") == "tansu" else "Apache Kafka"


@pytest.mark.tansu
def test_up_on_embedded_defaults_prints_bootstrap_and_round_trips_every_schema(
    tmp_path: Path,
) -> None:
    env = _env_without_hub_settings()
    env["HUB_DATA_DIR"] = str(tmp_path)
    env["HUB_REGISTRY_PORT"] = "0"
    env["HUB_CONSENT_PORT"] = "0"
    result = _up(env)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"bootstrap servers: (127\.0\.0\.1:\d+)\s+\(embedded (.+?) \(", result.stdout)
    assert match, result.stdout
    assert match.group(2).startswith(_expected_broker()), result.stdout
    messages = load_schemas().messages()
    for fullname in messages:
        short = fullname.rsplit(".", 1)[-1]
        assert re.search(rf"{short}\s.*ok", result.stdout), f"{short} missing:\n{result.stdout}"
    assert f"self-check: {len(messages)}/{len(messages)} schemas" in result.stdout
    assert re.search(r"schema registry: http://127\.0\.0\.1:\d+\s+\(embedded", result.stdout)
    assert "FAILED" not in result.stdout
    assert re.search(r"privacy officer console: http://127\.0\.0\.1:\d+/console", result.stdout)
    assert re.search(r"router: worker pid \d+", result.stdout)
    assert re.search(r"monitor: worker pid \d+", result.stdout)
    assert re.search(
        r"monitor dashboard: http://127\.0\.0\.1:\d+/monitor/report\?period=2026-09/10&format=html",
        result.stdout,
    ), result.stdout


def test_up_against_an_external_cluster_does_not_start_a_broker(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    assert hub_settings.bootstrap_servers is not None
    env = {
        **os.environ,
        "HUB_BOOTSTRAP_SERVERS": hub_settings.bootstrap_servers,
        "HUB_DATA_DIR": str(tmp_path),  # a persistent key store, placed explicitly
        "HUB_PSEUDONYM_KEY": "up-external-test-pseudonym-key",
        # the subject keys every replica shares: a master key and the consent database
        "HUB_SUBJECT_MASTER_KEY": "c3ViamVjdC1rZXlzLW1hc3Rlci1rZXktb2YtdGVzdHM=",
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'consent.db'}",
        "HUB_REGISTRY_PORT": "0",
        "HUB_CONSENT_PORT": "0",
    }
    result = _up(env, "--selfcheck-only")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"bootstrap servers: {hub_settings.bootstrap_servers}  (external" in result.stdout


@pytest.mark.tansu
def test_up_demo_feeds_partner_files_and_records_flow(tmp_path: Path) -> None:
    env = _env_without_hub_settings()
    env |= {"HUB_DATA_DIR": str(tmp_path), "HUB_REGISTRY_PORT": "0", "HUB_CONSENT_PORT": "0"}
    result = _up(env, "--demo", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo feed:" in result.stdout
    total = re.findall(r"total\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\d+)", result.stdout)
    assert total, result.stdout
    published, delivered, _notices, dead_lettered = map(int, total[-1])
    assert published > 0
    assert delivered > 0
    assert dead_lettered > 0  # the demo spoils a few rows on purpose
    said = (result.stdout + result.stderr).splitlines()
    assert [line for line in said if re.search(r"\bERROR\b", line)] == []
    warnings = Counter(
        re.sub(r"^\[[^]]*\]\s*", "", line).strip() for line in said if "WARNING" in line
    )
    assert [w for w, n in warnings.items() if n > 1] == [], warnings


def test_regression_up_prints_a_never_revoked_officer_key(tmp_path: Path) -> None:
    """`up` whose output is not a terminal (a container log) does not print its run's
    privacy-officer key, and revokes it when it stops; the next run revokes a key a
    killed run left behind."""
    from consent.api import issue_key  # noqa: PLC0415
    from consent.model import Role  # noqa: PLC0415
    from consent.store import open_store  # noqa: PLC0415

    store = open_store(None, tmp_path)
    store.migrate()
    left, _ = issue_key(store, Role.PRIVACY_OFFICER, "rmt-hub-up")  # as if a run was killed
    store.close()
    env = _env_without_hub_settings()
    env |= {"HUB_DATA_DIR": str(tmp_path), "HUB_REGISTRY_PORT": "0", "HUB_CONSENT_PORT": "0"}
    result = _up(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rmtc_" not in result.stdout + result.stderr
    assert "privacy officer API key: not shown" in result.stdout
    store = open_store(None, tmp_path)
    try:
        keys = [k for k in store.list_api_keys() if k.name == "rmt-hub-up"]
    finally:
        store.close()
    assert len(keys) == 2
    assert left.key_id in {k.key_id for k in keys}
    assert all(k.revoked_at is not None for k in keys)
