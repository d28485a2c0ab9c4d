"""The broker a benchmark measures: ``--broker kafka|tansu`` (default ``kafka``).

Every bench script that starts a broker takes the option through :func:`add_broker_option`
and calls :func:`use_broker` before it loads settings: that sets ``HUB_EMBEDDED_BROKER``
for the script and every process it starts, so ``broker_for`` starts that broker. It
prints :func:`describe_broker` with its figures. ``HUB_BOOTSTRAP_SERVERS`` still wins:
then the given cluster is measured and no broker is started.
"""

from __future__ import annotations

import argparse
import os

from hub.broker import choose_broker
from hub.config import HubSettings
from hub.router.options import RouterOptions

__all__ = ["BROKERS", "add_broker_option", "describe_broker", "router_options", "use_broker"]

BROKERS = ("kafka", "tansu")


def add_broker_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker",
        choices=BROKERS,
        default="kafka",
        help="the embedded broker to measure on: Apache Kafka (default) or Tansu",
    )


def use_broker(kind: str) -> None:
    """Start ``kind`` wherever this process or its children start an embedded broker."""
    os.environ["HUB_EMBEDDED_BROKER"] = kind


def describe_broker(settings: HubSettings) -> str:
    """One line: which broker the figures were measured on."""
    if os.environ.get("HUB_BOOTSTRAP_SERVERS"):
        return f"broker: the cluster at {os.environ['HUB_BOOTSTRAP_SERVERS']}"
    return f"broker: {choose_broker(settings).describe()}"


def router_options(settings: HubSettings, **overrides: object) -> RouterOptions:
    """A router worker's options for the broker measured: Tansu's quick group timings, or
    the defaults on Apache Kafka (which refuses sessions under 6 s)."""
    if choose_broker(settings).kind == "tansu" and not os.environ.get("HUB_BOOTSTRAP_SERVERS"):
        return RouterOptions.for_embedded_broker(**overrides)
    return RouterOptions.model_validate(overrides)
