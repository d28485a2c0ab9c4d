"""tests.helpers.waiting.wait_until: the one deadline loop of the tests."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers.waiting import wait_until


def test_returns_the_first_truthy_answer() -> None:
    answers = iter([None, 0, "", "ready"])
    assert wait_until(lambda: next(answers), timeout_s=5, what="ready", interval_s=0) == "ready"


def test_names_what_did_not_happen() -> None:
    with pytest.raises(AssertionError, match="the worker to start: not within 0s"):
        wait_until(lambda: False, timeout_s=0, what="the worker to start")


def test_a_callable_what_says_the_state_at_the_deadline() -> None:
    state = {"lag": 3}
    with pytest.raises(AssertionError, match="lag 3: not within 0s"):
        wait_until(lambda: False, timeout_s=0, what=lambda: f"lag {state['lag']}")


def test_a_raising_predicate_stops_the_wait() -> None:
    calls = itertools.count()

    def died() -> bool:
        assert next(calls) < 2, "the worker died"
        return False

    with pytest.raises(AssertionError, match="the worker died"):
        wait_until(died, timeout_s=60, what="never", interval_s=0)
