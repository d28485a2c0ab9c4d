"""Runs the ``rmt-hub broker`` command in a process of its own, so tests can signal it.

    python -m tests.integration.helpers.broker_cli --port 0

Same function and options as the registered command, without depending on how the
command tree is wired. It starts with SIGINT and SIGTERM at their defaults, as from a
terminal: a suite run as a background job hands its children SIGINT ignored, and the
command (rightly) keeps an ignored signal ignored.
"""

from __future__ import annotations

import signal

import typer

from hub.cli.broker import broker

__all__ = ["broker"]

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    typer.run(broker)
