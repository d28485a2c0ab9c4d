"""Synthetic demo data: realistic inputs for every partner kind, and feeding them in.

:func:`generate` writes the files and the people's consents (deterministic for a seed);
:func:`feed_demo` grants the consents (given a consent service) and runs the files
through the connectors, as ``rmt-hub up --demo`` does.
"""

from __future__ import annotations

from connectors.demo.consents import (
    CONSENTS,
    DemoConsent,
    generate_consents,
    grant_demo_consents,
    load_demo_consents,
)
from connectors.demo.feed import FeedItem, FeedSummary, feed_demo
from connectors.demo.generator import (
    DEMO_DATE,
    DemoFile,
    DemoManifest,
    generate,
    write_gemeente_csv,
)

__all__ = [
    "CONSENTS",
    "DEMO_DATE",
    "DemoConsent",
    "DemoFile",
    "DemoManifest",
    "FeedItem",
    "FeedSummary",
    "feed_demo",
    "generate",
    "generate_consents",
    "grant_demo_consents",
    "load_demo_consents",
    "write_gemeente_csv",
]
