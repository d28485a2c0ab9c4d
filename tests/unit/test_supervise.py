"""A supervised worker that dies says why: its exit code and the end of its own log."""

from __future__ import annotations

import sys
from pathlib import Path

from hub.config import load_settings
from hub.supervise import WorkerProcess
from tests.helpers.waiting import wait_until


class _Dying(WorkerProcess):
    def __init__(self, log_file: Path, said: str) -> None:
        super().__init__(load_settings(), log_file=log_file)
        self.said = said

    def command(self) -> list[str]:
        return [sys.executable, "-c", f"print({self.said!r}); raise SystemExit(3)"]


def _died(worker: WorkerProcess) -> None:
    wait_until(lambda: not worker.running, timeout_s=30, what="the worker exits", interval_s=0.05)


def test_exit_message_names_the_code_and_the_end_of_this_runs_log(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    first = _Dying(log, "an earlier run's last words").start()
    _died(first)
    first.stop()
    second = _Dying(log, "cannot open the keys").start()
    _died(second)
    message = second.exit_message("test worker")
    second.stop()
    assert message.startswith("test worker exited with code 3; the end of its log")
    assert message.endswith("cannot open the keys")
    assert "earlier run" not in message  # the log is appended to: only this run's part


def test_without_a_log_file_only_the_code(tmp_path: Path) -> None:
    worker = _Dying(tmp_path / "unused.log", "x")
    worker.log_file = None
    worker.start()
    _died(worker)
    assert worker.exit_message("test worker") == "test worker exited with code 3"
    worker.stop()
