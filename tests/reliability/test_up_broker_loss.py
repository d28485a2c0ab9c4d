"""`rmt-hub up --demo` when its embedded broker is killed: the hub starts the broker
again, says loudly that the data is gone, recovers and feeds the demo files again
through the connectors, and still stops cleanly on Ctrl-C, leaving no process behind."""

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


def test_up_recovers_from_a_killed_embedded_broker_and_replays_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= {
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
        brokers = {p: c for p, c in _children(proc.pid).items() if "tansu" in c}
        assert len(brokers) == 1, _children(proc.pid)
        (broker,) = brokers
        os.kill(broker, signal.SIGKILL)
        content = _wait_for(log, "recovered from broker data loss", proc, 240)
        assert "BROKER DATA LOSS" in content
        assert "must replay" in content
        assert content.count("demo feed:") == 2  # the replay through the connectors
        replay = content[content.rindex("demo feed:") :].splitlines()[0]
        assert "0 already there" in replay  # everything was gone, all published again
        restarted = {p for p, c in _children(proc.pid).items() if "tansu" in c}
        assert len(restarted) == 1
        assert broker not in restarted
        workers = [p for p, c in _children(proc.pid).items() if "tansu" not in c]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
        for pid in (*restarted, *workers):
            assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), pid
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0]
    except (OSError, IndexError):
        return "gone"
