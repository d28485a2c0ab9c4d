"""A thin wrapper over kafka-python: factories, error translation, metadata waits.

Client configuration comes from :mod:`hub.kafka.config`. It knows nothing of
serialization: producers and consumers here move bytes. Everything goes through the
configured bootstrap servers, so the same code runs on the embedded broker and on
Apache Kafka.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from aiokafka.errors import KafkaError as AioKafkaError
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import AuthorizationError, KafkaError, KafkaTimeoutError

from hub.config import HubSettings
from hub.errors import BrokerAuthorizationError, BrokerError, BrokerUnavailable
from hub.kafka.config import kafka_python_config, producer_guarantees

_LOG = logging.getLogger(__name__)

__all__ = [
    "admin_client",
    "authorization_error",
    "check_authorized",
    "consumer",
    "create_topics",
    "discard_producer",
    "kafka_errors",
    "producer",
    "wait_for_leaders",
    "wait_for_metadata",
]

# Group timings that work on Apache Kafka (its minimum session timeout is 6 s) and on
# Tansu, which holds each join for half the session timeout (see shared notes).
CONSUMER_DEFAULTS: dict[str, Any] = {
    "session_timeout_ms": 6_000,
    "heartbeat_interval_ms": 1_000,
    "auto_offset_reset": "earliest",
    "enable_auto_commit": False,
    # Topics come from the catalogue only. A client that auto-creates a topic gets the
    # broker's default partition count, which silently breaks co-partitioning and the
    # one-partition topics (the schema store); after a broker lost its data, clients
    # reconnecting before the recovery would do exactly that (hub.recovery).
    "allow_auto_create_topics": False,
}

PRODUCER_DEFAULTS: dict[str, Any] = {
    "linger_ms": 5,
    # Retried until delivery_timeout_ms (2 min), not a count: a leader change on Apache
    # Kafka takes the broker session timeout (9 s) and an election, and five quick
    # retries gave up long before (docs/decisions/0012-broker-failover.md).
    "delivery_timeout_ms": 120_000,
    "allow_auto_create_topics": False,  # see CONSUMER_DEFAULTS
}


_DENIED = {
    "TopicAuthorizationFailedError": "topic",
    "GroupAuthorizationFailedError": "consumer group",
    "ClusterAuthorizationFailedError": "cluster",
    "TransactionalIdAuthorizationFailedError": "transactional id",
}


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, set | frozenset | list | tuple):
        return tuple(sorted(str(v) for v in value))
    return ()


def authorization_error(action: str, exc: BaseException) -> BrokerAuthorizationError | None:
    """The hub's error for a Kafka authorization failure (kafka-python's or aiokafka's),
    naming the resources the broker named; None for any other error. An idempotent
    producer whose principal may write no topic at all is refused its producer id
    (kafka-python reports that as a plain KafkaError): ``action`` names the topic."""
    kind = _DENIED.get(type(exc).__name__)
    if kind is None and "InitProducerId" in str(exc) and "ClusterAuthorization" in str(exc):
        return BrokerAuthorizationError(
            f"{action}: not authorized to write (the principal may write no topic, so the "
            "broker refused it a producer id; `rmt-hub acls render` lists what each "
            "principal may do)"
        )
    if kind is None:
        return None
    names = tuple(n for arg in exc.args for n in _names(arg))
    what = f"{kind} {', '.join(names)}" if names and kind != "cluster" else kind
    topics = names if kind == "topic" else ()
    return BrokerAuthorizationError(
        f"{action}: not authorized for {what} (the broker's ACLs refused it: "
        "`rmt-hub acls render` lists what each principal may do)",
        topics,
    )


@contextmanager
def kafka_errors(action: str) -> Iterator[None]:
    """Translate kafka-python and aiokafka errors raised inside the block into the hub's
    tree (an authorization failure into :class:`BrokerAuthorizationError` naming the
    topic)."""
    try:
        yield
    except AuthorizationError as exc:
        denied = authorization_error(action, exc)
        raise (denied or BrokerError(f"{action}: {type(exc).__name__}: {exc}")) from exc
    except KafkaTimeoutError as exc:
        if "bootstrap" in str(exc).lower():
            raise BrokerUnavailable(f"{action}: no broker answered ({exc})") from exc
        raise BrokerError(f"{action}: timed out: {exc}") from exc
    except (KafkaError, AioKafkaError) as exc:
        denied = authorization_error(action, exc)
        raise (denied or BrokerError(f"{action}: {type(exc).__name__}: {exc}")) from exc


def check_authorized(reader: KafkaConsumer, action: str) -> None:
    """Raise :class:`BrokerAuthorizationError` if the broker refused ``reader`` the
    metadata of a topic it reads: kafka-python only logs that for assigned partitions
    and keeps waiting. Uses kafka-python's cluster metadata (``_client.cluster``)."""
    cluster = getattr(getattr(reader, "_client", None), "cluster", None)
    refused = set(getattr(cluster, "unauthorized_topics", ()) or ())
    wanted = {tp.topic for tp in reader.assignment()} | set(reader.subscription() or ())
    if denied := sorted(refused & wanted):
        raise BrokerAuthorizationError(
            f"{action}: not authorized for topic {', '.join(denied)} (the broker's ACLs "
            "refused it: `rmt-hub acls render` lists what each principal may do)",
            tuple(denied),
        )


def admin_client(settings: HubSettings) -> KafkaAdminClient:
    """An admin client; the caller closes it."""
    with kafka_errors("connecting the admin client"):
        return KafkaAdminClient(
            **kafka_python_config(settings), bootstrap_timeout_ms=settings.request_timeout_ms
        )


def producer(settings: HubSettings, **overrides: Any) -> KafkaProducer:
    """A bytes-in producer with safe defaults (acks=all, idempotent where the broker
    allows: ``HubSettings.idempotent_producer``); the caller closes it."""
    options = PRODUCER_DEFAULTS | producer_guarantees(settings)
    with kafka_errors("creating a producer"):
        return KafkaProducer(**(kafka_python_config(settings) | options | overrides))


def discard_producer(prod: KafkaProducer, timeout_s: float = 1.0) -> None:
    """Close a producer that may be broken, abandoning what it could not send.

    kafka-python's ``close()`` flushes first and, when the flush times out, gives up
    *without* closing; the garbage collector's ``close()`` then raises again where nobody
    can catch it. A producer whose idempotence state did not survive a broker restart
    never completes its pending batches, so those are aborted (their futures fail) and
    the producer is closed without waiting. Uses kafka-python internals
    (``_accumulator.abort_incomplete_batches``), kept to this one function."""
    try:
        prod.close(timeout=timeout_s)
        return
    except Exception as exc:  # any failure: force it below
        _LOG.debug("producer did not close cleanly (%s); aborting its pending sends", exc)
    accumulator = getattr(prod, "_accumulator", None)
    if accumulator is not None:
        with suppress(Exception):
            accumulator.abort_incomplete_batches()
    with suppress(Exception):
        prod.close(timeout=0)


def consumer(settings: HubSettings, *topics: str, **overrides: Any) -> KafkaConsumer:
    """A bytes-out consumer (manual commits, from the earliest offset); caller closes it."""
    with kafka_errors("creating a consumer"):
        return KafkaConsumer(
            *topics, **(kafka_python_config(settings) | CONSUMER_DEFAULTS | overrides)
        )


def wait_for_metadata(
    bootstrap_servers: str, timeout_s: float, *, settings: HubSettings | None = None
) -> list[str]:
    """Block until the cluster answers a metadata request; return its topic names.

    ``settings`` supplies security (SASL/TLS) and client id for a secured cluster; without
    it the probe connects in plaintext, as to the embedded broker. Raises
    :class:`BrokerUnavailable` when ``timeout_s`` passes without an answer.
    """
    base: dict[str, Any] = {"client_id": "rmt-hub-probe"}
    if settings is not None:
        base = kafka_python_config(settings.with_bootstrap(bootstrap_servers))
    base["bootstrap_servers"] = bootstrap_servers.split(",")
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            remaining_ms = int(min(2.0, deadline - time.monotonic()) * 1000)
            admin = KafkaAdminClient(
                **(
                    base
                    | {"request_timeout_ms": 2_000, "bootstrap_timeout_ms": max(100, remaining_ms)}
                )
            )
            try:
                return sorted(admin.list_topics())
            finally:
                admin.close()
        except (KafkaError, OSError, ValueError) as exc:
            last_error = exc
            time.sleep(0.05)
    raise BrokerUnavailable(
        f"{bootstrap_servers} gave no metadata within {timeout_s:.1f}s"
        + (f" (last error: {type(last_error).__name__}: {last_error})" if last_error else "")
    )


def _unled(admin: KafkaAdminClient, names: list[str]) -> set[str]:
    """The topics of ``names`` not yet in the metadata with a leader for every partition."""
    ready = {
        t["name"]
        for t in admin.describe_topics(names)
        if not t.get("error_code")
        and t.get("partitions")
        and all(p.get("leader_id", -1) >= 0 for p in t["partitions"])
    }
    return set(names) - ready


def wait_for_leaders(admin: KafkaAdminClient, names: list[str], timeout_s: float = 30.0) -> None:
    """Block until every topic of ``names`` is in the metadata with a leader per partition.

    Apache Kafka acknowledges a creation once its controller has it; brokers learn of it
    (and elect leaders) a moment later, and a client asking then is told the topic does
    not exist. Raises :class:`BrokerError` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while missing := _unled(admin, list(names)):
        if time.monotonic() > deadline:
            raise BrokerError(
                f"topics created, but without a leader after {timeout_s:.0f} s: {sorted(missing)}"
            )
        time.sleep(0.05)


def create_topics(admin: KafkaAdminClient, topics: list[NewTopic]) -> None:
    """Create ``topics`` and wait until each has a leader per partition (see
    :func:`wait_for_leaders`); kafka-python's errors propagate (e.g. already exists)."""
    admin.create_topics(topics)
    wait_for_leaders(admin, [t.name for t in topics])
