"""Apache Kafka in KRaft mode, started by the hub: one node, or a cluster for tests.

A node runs ``kafka.Kafka`` from the jars of :mod:`hub.broker.distribution` as combined
broker and controller on loopback, with its log directories (and so its data) in
``data_dir``, which survive a restart. A :class:`KafkaCluster` runs N such nodes that
form one controller quorum. The broker settings that matter are those of
docker-compose.yml (see :data:`BASE_PROPERTIES`); the rest only make tests quick.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from hub.broker import distribution
from hub.broker._process import format_address, pick_free_port
from hub.broker.embedded import EmbeddedBroker, _child_env
from hub.config import HubSettings
from hub.errors import BrokerStartError
from hub.kafka import wait_for_metadata
from hub.lifecycle import Startable

__all__ = ["BASE_PROPERTIES", "BrokerSecurity", "KafkaBroker", "KafkaCluster", "new_cluster_id"]

_LOG = logging.getLogger(__name__)

#: Broker settings shared with docker-compose.yml (a test compares the two).
BASE_PROPERTIES: dict[str, str] = {
    "process.roles": "broker,controller",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "CLIENT",
    "auto.create.topics.enable": "false",
}

#: Settings that only make a loopback broker quick to use; nothing the hub relies on.
QUICK_PROPERTIES: dict[str, str] = {
    "group.initial.rebalance.delay.ms": "0",  # the first consumer need not wait 3 s
    # RouterOptions.for_embedded_broker's 3 s sessions (quick failover after a crash);
    # production keeps Kafka's 6 s minimum and the router's 6 s default
    "group.min.session.timeout.ms": "1000",
    "offsets.topic.num.partitions": "10",  # 50 by default: slow to create on 2 cores
    "log.cleaner.backoff.ms": "1000",  # compaction checks every second (15 s by default)
    "num.network.threads": "2",
    "num.io.threads": "4",
}


class BrokerSecurity(Protocol):
    """TLS, SASL and ACL settings for a node (:class:`hub.broker.secure.SecuredBrokers`)."""

    def node_properties(
        self, node_id: int, host: str, port: int, controller_port: int
    ) -> dict[str, str]:
        """Settings of node ``node_id``, its client listener on ``port``; they replace
        the plaintext listeners."""
        ...

    def format_args(self) -> list[str]:
        """Storage formatter arguments (e.g. SCRAM credentials)."""
        ...

    def probe_settings(self, bootstrap_servers: str) -> HubSettings:
        """Client settings the readiness probe connects with."""
        ...


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64 without padding, never starting
    with "-" (as Kafka's own ``Uuid.randomUuid``: the storage tool would read it as an
    option, one start in 64)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _as_properties(values: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


class KafkaBroker(EmbeddedBroker):
    """One Apache Kafka node (combined broker and controller) on ``host:port``.

    ``data_dir`` holds its config and log directories; what it held is kept across
    :meth:`restart` and across processes. ``quorum`` and ``controller_port`` are set by
    :class:`KafkaCluster`; alone, the node is its own single-voter quorum.
    ``properties`` override any broker setting; ``format_args`` go to the storage
    formatter (e.g. ``--add-scram``) the first time the node's storage is formatted.
    ``security`` secures the listeners (TLS, SCRAM, ACLs; applied before ``properties``)."""

    name = f"Apache Kafka {distribution.kafka_version()}"
    persistent = True
    stop_timeout_s = 20.0  # a controlled shutdown hands leadership over first

    def __init__(
        self,
        *,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout_s: float = 60.0,
        log_path: Path | None = None,
        node_id: int = 1,
        controller_port: int = 0,
        quorum: Sequence[str] | None = None,
        cluster_size: int = 1,
        cluster_id: str | None = None,
        properties: Mapping[str, str] | None = None,
        format_args: Sequence[str] = (),
        heap: str = "512m",
        security: BrokerSecurity | None = None,
    ) -> None:
        super().__init__(host=host, port=port, ready_timeout_s=ready_timeout_s, log_path=log_path)
        self.data_dir = data_dir
        self.node_id = node_id
        self._controller_port = controller_port
        self._quorum = list(quorum) if quorum else None
        self._cluster_size = cluster_size
        self._cluster_id = cluster_id
        self._properties = dict(properties or {})
        self._format_args = list(format_args)
        self._heap = heap
        self._security = security
        self._java: distribution.Java | None = None

    @property
    def config_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def properties(self, port: int, controller_port: int) -> dict[str, str]:
        """The broker settings of this node on these ports."""
        address = format_address(self._host, port)
        controller = format_address(self._host, controller_port)
        quorum = self._quorum or [f"{self.node_id}@{controller}"]
        size = self._cluster_size
        return (
            BASE_PROPERTIES
            | QUICK_PROPERTIES
            | {
                "node.id": str(self.node_id),
                "controller.quorum.voters": ",".join(quorum),
                "listeners": f"CLIENT://{address},CONTROLLER://{controller}",
                "advertised.listeners": f"CLIENT://{address}",
                "listener.security.protocol.map": "CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs": str(self.logs_dir),
                "default.replication.factor": str(min(3, size)),
                "min.insync.replicas": str(min(2, size)),
                "offsets.topic.replication.factor": str(min(3, size)),
                "transaction.state.log.replication.factor": str(min(3, size)),
                "transaction.state.log.min.isr": str(min(2, size)),
            }
            | self._secured(port, controller_port)
            | self._properties
        )

    def _secured(self, port: int, controller_port: int) -> dict[str, str]:
        if self._security is None:
            return {}
        return self._security.node_properties(self.node_id, self._host, port, controller_port)

    # --- EmbeddedBroker hooks --------------------------------------------------------------

    def _check_installed(self) -> None:
        java = distribution.find_java()
        if java is None:
            raise BrokerStartError(
                "Apache Kafka needs Java 17 or later, and none was found through "
                "JAVA_HOME or PATH; install a JDK or set HUB_EMBEDDED_BROKER=tansu"
            )
        if java.major < distribution.KAFKA_MIN_JAVA:
            raise BrokerStartError(
                f"Apache Kafka needs Java {distribution.KAFKA_MIN_JAVA} or later; "
                f"{java.path} is Java {java.major}"
            )
        self._java = java
        distribution.install(progress=lambda line: _LOG.info("%s", line))

    def _prepare(self, port: int) -> None:
        controller_port = self._controller_port or pick_free_port(self._host)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(_as_properties(self.properties(port, controller_port)))
        if not (self.logs_dir / "meta.properties").is_file():
            self._format()

    def _format(self) -> None:
        if self._cluster_id is None:
            self._cluster_id = new_cluster_id()
        command = [
            *self._java_command(),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            self._cluster_id,
            "--config",
            str(self.config_path),
            "--ignore-formatted",
            *self._format_args,
            *(self._security.format_args() if self._security else ()),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, env=self._env(), timeout=120, check=False
        )
        if done.returncode != 0:
            raise BrokerStartError(
                f"formatting the storage of {self.name} node {self.node_id} in {self.logs_dir} "
                f"failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-2000:]}"
            )

    def _java_command(self) -> list[str]:
        assert self._java is not None  # _check_installed ran
        return [
            self._java.path,
            "-Xms128m",
            f"-Xmx{self._heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={distribution.LOG4J_CONFIG}",
            "-cp",
            distribution.classpath(),
        ]

    def _command(self, port: int) -> list[str]:
        return [*self._java_command(), "kafka.Kafka", str(self.config_path)]

    def _probe(self, address: str, timeout_s: float) -> None:
        if self._security is None:
            super()._probe(address, timeout_s)
            return
        wait_for_metadata(address, timeout_s, settings=self._security.probe_settings(address))

    def _env(self) -> dict[str, str]:
        env = _child_env()
        env.pop("KAFKA_OPTS", None)  # a developer's own broker options are not ours
        return env


class KafkaCluster(Startable):
    """``size`` Apache Kafka nodes on loopback forming one KRaft quorum (tests, failover).

    Node ``i`` (1-based) keeps its data in ``data_dir/node-i``. ``properties`` and
    ``format_args`` and ``security`` apply to every node."""

    def __init__(
        self,
        *,
        data_dir: Path,
        size: int = 3,
        host: str = "127.0.0.1",
        ready_timeout_s: float = 90.0,
        properties: Mapping[str, str] | None = None,
        format_args: Sequence[str] = (),
        heap: str = "384m",
        security: BrokerSecurity | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"a cluster needs at least one node, not {size}")
        ports = [(pick_free_port(host), pick_free_port(host)) for _ in range(size)]
        quorum = [
            f"{i}@{format_address(host, controller)}"
            for i, (_, controller) in enumerate(ports, start=1)
        ]
        cluster_id = new_cluster_id()
        self._ready_timeout_s = ready_timeout_s
        self.nodes = [
            KafkaBroker(
                data_dir=data_dir / f"node-{i}",
                host=host,
                port=port,
                ready_timeout_s=ready_timeout_s,
                log_path=data_dir / f"node-{i}.log",
                node_id=i,
                controller_port=controller,
                quorum=quorum,
                cluster_size=size,
                cluster_id=cluster_id,
                properties=properties,
                format_args=format_args,
                heap=heap,
                security=security,
            )
            for i, (port, controller) in enumerate(ports, start=1)
        ]
        self._ports = [port for port, _ in ports]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes if node.running)

    def node(self, node_id: int) -> KafkaBroker:
        return self.nodes[node_id - 1]

    def start(self) -> str:
        """Start every node together (a quorum needs a majority); return the bootstrap list."""
        began = time.monotonic()
        deadline = began + self._ready_timeout_s
        for node in self.nodes:
            node._check_installed()
        spawned = [
            (node, node._spawn(port)) for node, port in zip(self.nodes, self._ports, strict=True)
        ]
        try:
            for (node, address), port in zip(spawned, self._ports, strict=True):
                node._complete(address, port, deadline)
        except BaseException:
            self.stop()
            raise
        _LOG.info(
            "Apache Kafka cluster of %d nodes ready on %s in %.1f s",
            len(self.nodes),
            self.bootstrap_servers,
            time.monotonic() - began,
        )
        return self.bootstrap_servers

    def stop(self) -> None:
        """Stop every node at once: a node stopped after its peers has no quorum left
        for a controlled shutdown and would wait for its SIGKILL."""
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            for done in [pool.submit(node.stop) for node in self.nodes]:
                done.result()
