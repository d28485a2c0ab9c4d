"""Fault injection for the crash tests: die at a named point, like a power cut would.

Set ``HUB_CONSENT_CRASH_AFTER_COMMIT=1`` and the process exits (``os._exit``: no
cleanup, no flush, no ``finally``) right after a consent change is committed and before
the relay publishes it; ``HUB_CONSENT_CRASH_AFTER_PUBLISH=1`` exits after the broker
acknowledged a change and before the outbox row is marked published. Unset, each point
costs one environment lookup.
"""

from __future__ import annotations

import os
import sys

__all__ = ["CRASH_AFTER_COMMIT", "CRASH_AFTER_PUBLISH", "CRASH_EXIT_CODE", "crash_point"]

CRASH_AFTER_COMMIT = "HUB_CONSENT_CRASH_AFTER_COMMIT"
CRASH_AFTER_PUBLISH = "HUB_CONSENT_CRASH_AFTER_PUBLISH"
CRASH_EXIT_CODE = 86


def crash_point(variable: str) -> None:
    """Exit the process at once when ``variable`` is set to 1 in the environment."""
    if os.environ.get(variable) == "1":
        sys.stderr.write(f"fault injection: {variable}=1, exiting now\n")
        sys.stderr.flush()
        os._exit(CRASH_EXIT_CODE)
