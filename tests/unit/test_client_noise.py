"""kafka-python's lines that report nothing wrong with the hub are dropped; the rest pass."""

from __future__ import annotations

import logging

import kafka.errors
import pytest

from hub.logging import quiet_client_loggers


@pytest.fixture
def caught(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    quiet_client_loggers()
    caplog.set_level(logging.WARNING)
    return caplog


def _emitted(caught: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caught.records]


def test_regression_a_closed_clients_cancelled_refresh_was_logged_as_an_error(
    caught: pytest.LogCaptureFixture,
) -> None:
    cluster = logging.getLogger("kafka.cluster")
    cluster.error("Metadata refresh: failed %s", kafka.errors.Cancelled())
    cluster.error("Metadata refresh: failed %s", kafka.errors.KafkaConnectionError("refused"))
    assert _emitted(caught) == ["Metadata refresh: failed KafkaConnectionError: refused"]


def test_the_selectors_slow_task_warning_is_dropped(caught: pytest.LogCaptureFixture) -> None:
    selector = logging.getLogger("kafka.net.selector")
    selector.warning(
        "Task <t> ran for 0.117s (>0.100s threshold). It is blocking the event loop -- "
        "likely a tight sync loop inside a coroutine. Other pollers will time out."
    )
    selector.warning("IO loop error: broken")
    assert _emitted(caught) == ["IO loop error: broken"]


def test_installing_twice_adds_one_filter() -> None:
    quiet_client_loggers()
    quiet_client_loggers()
    assert len(logging.getLogger("kafka.cluster").filters) == 1
