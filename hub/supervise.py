"""Hub workers as supervised subprocesses (router, monitor): one implementation.

A :class:`WorkerProcess` gets the settings as the ``HUB_*`` environment
(:func:`settings_env`), dies with its parent (``PR_SET_PDEATHSIG`` on Linux), writes its
output to a log file (or nowhere), and stops with SIGTERM, then SIGKILL when it does not
exit in time. Subclasses say which command to run and how to tell it is ready.
"""

from __future__ import annotations

import os
import signal
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Self

from pydantic import SecretStr

from hub.broker._process import log_tail, parent_death_preexec
from hub.config import HubSettings

__all__ = ["WorkerProcess", "settings_env"]


def settings_env(settings: HubSettings) -> dict[str, str]:
    """The ``HUB_*`` environment that reproduces ``settings`` in a child process."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"HUB_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


class WorkerProcess(ABC):
    """One hub worker in a subprocess; :meth:`command` and :meth:`extra_env` define it."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        log_file: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """``env``: extra environment of the worker, over the settings'."""
        self.settings = settings
        self.log_file = log_file
        self.env = dict(env or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0

    @abstractmethod
    def command(self) -> list[str]:
        """The worker's command line."""

    def extra_env(self) -> dict[str, str]:
        """Environment the worker kind adds (e.g. its options as JSON)."""
        return {}

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def start(self) -> Self:
        env = os.environ | settings_env(self.settings) | self.env | self.extra_env()
        self._log = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115
        self._log_start = self._log.tell() if self._log is not None else 0
        self._proc = subprocess.Popen(
            self.command(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log if self._log is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            preexec_fn=parent_death_preexec(),  # noqa: PLW1509 - only sets the death signal
        )
        return self

    def kill(self) -> None:
        """SIGKILL: the worker dies without leaving its group or committing."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(10)
        self._close_log()

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time; idempotent."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        self._close_log()

    def exit_message(self, what: str) -> str:
        """``<what> exited with code N``, with the end of what this run of the worker wrote
        to its log file, when it has one (what it said before it died)."""
        message = f"{what} exited with code {self.returncode}"
        tail = log_tail(self.log_file, start=self._log_start) if self.log_file else ""
        return f"{message}; the end of its log ({self.log_file}):\n{tail}" if tail else message

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
        self._log = None
