"""Which broker the hub starts itself, and the context managers that start it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from hub.broker import distribution
from hub.broker.embedded import EmbeddedBroker, TansuBroker
from hub.config import HubSettings
from hub.kafka import wait_for_metadata

__all__ = ["BrokerChoice", "broker_for", "choose_broker", "make_broker", "running_broker"]

_LOG = logging.getLogger(__name__)

BrokerKind = Literal["kafka", "tansu"]


@dataclass(frozen=True)
class BrokerChoice:
    """The broker kind to start and, in one line, why."""

    kind: BrokerKind
    reason: str

    def describe(self) -> str:
        name = f"Apache Kafka {distribution.kafka_version()}" if self.kind == "kafka" else "Tansu"
        return f"{name} ({self.reason})"


def choose_broker(settings: HubSettings) -> BrokerChoice:
    """``HUB_EMBEDDED_BROKER`` when set; else Apache Kafka where Java 17+ is found."""
    if settings.embedded_broker is not None:
        return BrokerChoice(settings.embedded_broker, "HUB_EMBEDDED_BROKER")
    java = distribution.find_java()
    if java is None:
        return BrokerChoice("tansu", "no Java found through JAVA_HOME or PATH; memory-only")
    if java.major < distribution.KAFKA_MIN_JAVA:
        return BrokerChoice(
            "tansu",
            f"{java.path} is Java {java.major}, Apache Kafka needs "
            f"{distribution.KAFKA_MIN_JAVA}+; memory-only",
        )
    return BrokerChoice("kafka", f"Java {java.major} at {java.path}")


def make_broker(settings: HubSettings, kind: BrokerKind | None = None) -> EmbeddedBroker:
    """An unstarted broker of ``kind`` (default: :func:`choose_broker`) for ``settings``:
    Apache Kafka keeps its data in ``data_dir/kafka``; both log to ``data_dir/broker.log``."""
    kind = kind or choose_broker(settings).kind
    log_path = settings.data_dir / "broker.log"
    if kind == "tansu":
        return TansuBroker(
            host=settings.embedded_host,
            port=settings.embedded_port,
            ready_timeout_s=settings.embedded_ready_timeout_s,
            log_path=log_path,
        )
    from hub.broker.apache import KafkaBroker  # noqa: PLC0415 - reads the pom on import

    return KafkaBroker(
        data_dir=settings.data_dir / "kafka",
        host=settings.embedded_host,
        port=settings.embedded_port,
        ready_timeout_s=settings.embedded_ready_timeout_s,
        log_path=log_path,
        heap=settings.kafka_heap,
    )


@contextmanager
def broker_for(settings: HubSettings) -> Iterator[HubSettings]:
    """Settings bound to a running broker, for the duration of the block.

    Without ``HUB_BOOTSTRAP_SERVERS`` the chosen embedded broker is started (logging to
    ``data_dir/broker.log``) and stopped on exit; the yielded settings point at it.
    Otherwise the configured cluster must answer a metadata request and the settings
    are yielded unchanged; no broker is started.
    """
    with running_broker(settings) as (running, _):
        yield running


@contextmanager
def running_broker(settings: HubSettings) -> Iterator[tuple[HubSettings, EmbeddedBroker | None]]:
    """Like :func:`broker_for`, and also the :class:`EmbeddedBroker` it started (None when
    an external cluster is configured), for a supervisor that restarts it."""
    if settings.bootstrap_servers is not None:
        wait_for_metadata(
            settings.bootstrap_servers, settings.request_timeout_ms / 1000, settings=settings
        )
        _LOG.info("using the Kafka cluster at %s", settings.bootstrap_servers)
        yield settings, None
        return
    choice = choose_broker(settings)
    _LOG.info("embedded broker: %s", choice.describe())
    with make_broker(settings, choice.kind) as broker:
        running = settings.with_bootstrap(broker.bootstrap_servers)
        if choice.kind == "tansu":  # its InitProducerId fails (docs/embedded-broker.md)
            running = running.model_copy(update={"idempotent_producer": False})
        yield running, broker
