"""Fixtures of the reliability suite: faults, hostile input and security regressions.

Every test here runs in two sizes. CI runs the *short* size (the default), sized to stay
well inside CI's time on 2 cores; ``--reliability=full`` (or ``RMT_RELIABILITY=full``)
runs the long versions the issue asks for (a 50,000-record stream, more kills, more
hypothesis examples). ``python3 dev.py reliability`` runs the long versions and records
their results in ``bench/RESULTS.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.config import HubSettings
from tests.router.conftest import make_hub, registry_url  # noqa: F401 - fixture re-export
from tests.router.helpers.hubtest import Hub

__all__ = ["Scale"]


@dataclass(frozen=True)
class Scale:
    """How big a reliability test is: ``full`` for the long runs, else the CI size."""

    full: bool

    def pick(self, short: int, full: int) -> int:
        return full if self.full else short

    @property
    def name(self) -> str:
        return "full" if self.full else "short"


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> Scale:
    return Scale(full=request.config.getoption("--reliability") == "full")


@pytest.fixture
def hub(hub_settings: HubSettings, registry_url: str, tmp_path: Path) -> Iterator[Hub]:  # noqa: F811
    """A hub with its own topics on the session broker, for one test."""
    made = make_hub(hub_settings, registry_url, tmp_path)
    try:
        yield made
    finally:
        made.close()
