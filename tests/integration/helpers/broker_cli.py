"""Runs the ``rmt-hub broker`` command in a process of its own, so tests can signal it.

    python -m tests.integration.helpers.broker_cli --port 0

Same function and options as the registered command, without depending on how the
command tree is wired.
"""

from __future__ import annotations

import typer

from hub.cli.broker import broker

__all__ = ["broker"]

if __name__ == "__main__":
    typer.run(broker)
