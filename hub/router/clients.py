"""aiokafka clients for the router, configured through :mod:`hub.kafka.config` only.

The producer is idempotent where the broker grants producer ids (Apache Kafka; not
Tansu, see ``HubSettings.idempotent_producer``); de-duplication by deterministic ids
(:mod:`hub.router.ids`) holds either way. Errors translate with
:func:`hub.kafka.kafka_errors`.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hub.config import HubSettings
from hub.kafka.config import aiokafka_config, producer_guarantees

__all__ = ["new_consumer", "new_producer"]


def _config(settings: HubSettings, client_suffix: str) -> dict[str, Any]:
    return aiokafka_config(settings, f"{settings.client_id}-router-{client_suffix}")


def new_producer(settings: HubSettings, **overrides: Any) -> AIOKafkaProducer:
    """A bytes producer: acks from all replicas, idempotent where the broker allows."""
    options: dict[str, Any] = producer_guarantees(settings) | {
        "linger_ms": 0,
        "max_batch_size": 256 * 1024,
    }
    return AIOKafkaProducer(**(_config(settings, "writer") | options | overrides))


def new_consumer(settings: HubSettings, suffix: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer outside any group (manual assignment, no commits), from the beginning."""
    options: dict[str, Any] = {
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": 50,
    }
    return AIOKafkaConsumer(**(_config(settings, suffix) | options | overrides))
