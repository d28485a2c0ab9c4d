"""`rmt-hub up --demo` when its embedded broker is killed: the hub starts the broker
again. Tansu comes back empty: the hub says loudly that the data is gone, recovers and
feeds the demo files again through the connectors. Apache Kafka comes back with its
data: nothing is lost, nothing replayed. Either way `up` still stops cleanly on Ctrl-C,
leaving no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


def _children(pid: int) -> dict[int, str]:
    """Direct children of ``pid``: their command lines."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
        except (OSError, ValueError, IndexError):
            continue
    return found


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    content = ""
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return content
        if proc.poll() is not None:
            raise AssertionError(f"rmt-hub up exited ({proc.returncode}):\n{content[-4000:]}")
        time.sleep(0.5)
    raise AssertionError(f"'{text}' not printed within {timeout_s:.0f}s:\n{content[-4000:]}")


BROKER_PROCESS = {"tansu": "tansu", "kafka": "kafka.Kafka"}


@pytest.mark.parametrize("kind", [pytest.param("tansu", marks=pytest.mark.tansu_only), "kafka"])
def test_up_survives_a_killed_embedded_broker(tmp_path: Path, kind: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= {
        "HUB_EMBEDDED_BROKER": kind,
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_REGISTRY_PORT": "0",
        "HUB_CONSENT_PORT": "0",
        "COLUMNS": "200",
    }
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "up", "--demo", "20"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_for(log, "demo feed:", proc, 240)
        marker = BROKER_PROCESS[kind]
        brokers = {p: c for p, c in _children(proc.pid).items() if marker in c}
        assert len(brokers) == 1, _children(proc.pid)
        (broker,) = brokers
        os.kill(broker, signal.SIGKILL)
        if kind == "tansu":
            content = _wait_for(log, "recovered from broker data loss", proc, 240)
            assert "BROKER DATA LOSS" in content
            assert "must replay" in content
            assert content.count("demo feed:") == 2  # the replay through the connectors
            replay = content[content.rindex("demo feed:") :].splitlines()[0]
            assert "0 already there" in replay  # everything was gone, all published again
        else:
            content = _wait_for(log, "starting it again (with its data)", proc, 120)
            _wait_until_restarted(proc.pid, marker, broker)
            time.sleep(6)  # three continuity checks (every 2 s) on the restarted broker
            content = log.read_text(errors="replace")
            assert "BROKER DATA LOSS" not in content
            assert content.count("demo feed:") == 1  # nothing to replay
        restarted = {p for p, c in _children(proc.pid).items() if marker in c}
        assert len(restarted) == 1
        assert broker not in restarted
        workers = [p for p, c in _children(proc.pid).items() if marker not in c]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
        for pid in (*restarted, *workers):
            assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), pid
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _wait_until_restarted(parent: int, marker: str, old: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = {p for p, c in _children(parent).items() if marker in c}
        if found and old not in found:
            return
        time.sleep(0.5)
    raise AssertionError(f"no new broker process under {parent} within {timeout_s:.0f}s")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0]
    except (OSError, IndexError):
        return "gone"
