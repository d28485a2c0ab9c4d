"""Fixtures of the browser tests: headless Chromium (Debian's package) driven by Playwright.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (or
``HUB_TEST_CHROMIUM``), which ``python3 dev.py test`` installs with apt. When it or the
``playwright`` package is missing the tests FAIL with a message saying what to install;
they are never skipped. Screenshots go to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module, closed after it.

    Not per session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, and later tests that call ``asyncio.run`` would fail.
    """
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        pytest.fail(
            "the browser tests need the Python package 'playwright' (a dev extra: "
            "pip install -e '.[dev]', or python3 dev.py test)",
            pytrace=False,
        )
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests drive Debian's chromium "
            "package (python3 dev.py test installs it; or apt-get install chromium), or set "
            "HUB_TEST_CHROMIUM to a Chromium binary. Never 'playwright install'.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (``test-artifacts/``, git-ignored; CI keeps it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
