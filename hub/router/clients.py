"""aiokafka clients for the router, configured from :class:`~hub.config.HubSettings` only.

The same security settings as :mod:`hub.kafka` (SASL, TLS) map onto aiokafka's and
faust's options here, so the router never assumes the embedded broker. The producer is
idempotent where the broker grants producer ids (Apache Kafka; not Tansu, see
``HubSettings.idempotent_producer``); de-duplication by deterministic ids
(:mod:`hub.router.ids`) holds either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.config import HubSettings
from hub.errors import BrokerError, ConfigError
from hub.faust_support import ssl_context

__all__ = [
    "aiokafka_config",
    "kafka_errors",
    "new_consumer",
    "new_producer",
]


def aiokafka_config(settings: HubSettings, client_suffix: str) -> dict[str, Any]:
    """aiokafka options shared by the router's producer and consumers."""
    if settings.bootstrap_servers is None:
        raise ConfigError(
            "no bootstrap servers: start the embedded broker first or set HUB_BOOTSTRAP_SERVERS"
        )
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "client_id": f"{settings.client_id}-router-{client_suffix}",
        "request_timeout_ms": settings.request_timeout_ms,
        "security_protocol": settings.security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        config["ssl_context"] = context
    if settings.security_protocol.startswith("SASL_"):
        assert settings.sasl_password is not None  # checked by HubSettings
        config |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password.get_secret_value(),
        }
    return config


def new_producer(settings: HubSettings, **overrides: Any) -> AIOKafkaProducer:
    """A bytes producer: acks from all replicas, idempotent where the broker allows."""
    options: dict[str, Any] = {
        "acks": "all",
        "enable_idempotence": settings.idempotent_producer,
        "linger_ms": 0,
        "max_batch_size": 256 * 1024,
    }
    return AIOKafkaProducer(**(aiokafka_config(settings, "writer") | options | overrides))


def new_consumer(settings: HubSettings, suffix: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer outside any group (manual assignment, no commits), from the beginning."""
    options: dict[str, Any] = {
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": 50,
    }
    return AIOKafkaConsumer(**(aiokafka_config(settings, suffix) | options | overrides))


@contextmanager
def kafka_errors(action: str) -> Iterator[None]:
    """Translate aiokafka errors raised inside the block into :class:`BrokerError`."""
    try:
        yield
    except KafkaError as exc:
        raise BrokerError(f"{action}: {type(exc).__name__}: {exc}") from exc
