"""Synthetic demo data: realistic inputs for every partner kind, and feeding them in.

:func:`generate` writes the files (deterministic for a seed); :func:`feed_demo` runs
them through the connectors, as ``rmt-hub up --demo`` does.
"""

from __future__ import annotations

from connectors.demo.feed import FeedItem, FeedSummary, feed_demo
from connectors.demo.generator import (
    DEMO_DATE,
    DemoFile,
    DemoManifest,
    generate,
    write_gemeente_csv,
)

__all__ = [
    "DEMO_DATE",
    "DemoFile",
    "DemoManifest",
    "FeedItem",
    "FeedSummary",
    "feed_demo",
    "generate",
    "write_gemeente_csv",
]
