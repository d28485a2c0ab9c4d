"""The size of the reliability suite: faults, hostile input and security regressions.

Every test there runs in two sizes. CI runs the *short* size (the default), sized to
stay well inside CI's time on 2 cores; ``--reliability=full`` (or
``RMT_RELIABILITY=full``) runs the long versions the issue asks for (a 50,000-record
stream, more kills, more hypothesis examples). ``python3 dev.py reliability`` runs the
long versions and records their results in ``bench/RESULTS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

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
