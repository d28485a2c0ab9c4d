"""One way to wait for something in a test: :func:`wait_until`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_until"]

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout_s: float,
    what: str | Callable[[], str],
    interval_s: float = 0.1,
) -> T:
    """Call ``predicate`` until it returns something truthy and return that; an
    AssertionError naming ``what`` after ``timeout_s`` (a callable ``what`` is asked
    then, to say what the state was). The predicate may itself raise (e.g. assert that
    a worker is still alive) to stop waiting at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"{said}: not within {timeout_s:g}s")
        time.sleep(interval_s)
