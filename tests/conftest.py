"""Test-wide options and plugins. Fixtures shared by several directories live in
tests/plugins/ and are registered here; plain helpers live in tests/helpers/ (import
them; never import from a conftest). Broker fixtures are in tests/plugins/broker.py: a
test that uses them is marked ``integration`` here, so ``-m "not integration"`` starts
no broker at all."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.plugins.broker",  # the session's broker, topics
    "tests.plugins.registry",  # the session's schema registry
    "tests.plugins.hub",  # a hub with its own topics (make_hub, hub)
    "tests.plugins.postgres",  # a throwaway PostgreSQL
    "tests.plugins.reliability",  # the reliability suite's size (scale)
]

# pytest-xdist gives its workers COLUMNS=80, which rich's console would keep from its
# import on; the CLI tests set their own COLUMNS when they invoke a command.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.pop("COLUMNS", None)

#: fixtures of tests/plugins/broker.py that start the session's broker
BROKER_FIXTURES = frozenset({"hub_settings", "topic_factory"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability",
        choices=("short", "full"),
        default=os.environ.get("RMT_RELIABILITY", "short"),
        help="size of tests/reliability: short (CI, the default) or full (the long runs)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
