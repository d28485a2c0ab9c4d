"""Runs the ``rmt-hub consent`` commands in a process of its own (for the crash tests).

    python -m tests.consent.helpers.consent_cli serve

Same command tree as ``rmt-hub consent``, without depending on how the top-level
command is wired.
"""

from __future__ import annotations

from hub.cli.consent import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
