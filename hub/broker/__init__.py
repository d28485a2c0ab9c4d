"""The broker the hub starts itself for local runs and tests: Apache Kafka or Tansu.

Production points ``HUB_BOOTSTRAP_SERVERS`` at a Kafka cluster; :func:`broker_for` then
starts nothing. Importing this package starts nothing either.
"""

from __future__ import annotations

from hub.broker.choice import (
    BrokerChoice,
    broker_for,
    choose_broker,
    make_broker,
    running_broker,
)
from hub.broker.embedded import EmbeddedBroker, TansuBroker

__all__ = [
    "BrokerChoice",
    "EmbeddedBroker",
    "TansuBroker",
    "broker_for",
    "choose_broker",
    "make_broker",
    "running_broker",
]
