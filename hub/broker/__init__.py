"""The embedded Kafka-compatible broker (Tansu) for local runs and tests.

Production points ``HUB_BOOTSTRAP_SERVERS`` at Apache Kafka; :func:`broker_for` then
starts nothing. Importing this package starts nothing either.
"""

from __future__ import annotations

from hub.broker.embedded import EmbeddedBroker, broker_for, running_broker

__all__ = ["EmbeddedBroker", "broker_for", "running_broker"]
