"""Typed identifiers used throughout the hub.

They are plain strings at run time; ``NewType`` keeps them apart for mypy so a
partner id is never passed where a client pseudonym is expected.
"""

from __future__ import annotations

from typing import NewType

__all__ = ["ClientPseudonym", "ConsentId", "EventId", "PartnerId"]

PartnerId = NewType("PartnerId", str)
"""A partner organisation in the directory, e.g. ``uwv`` or ``gemeente-0363``."""

ClientPseudonym = NewType("ClientPseudonym", str)
"""The pseudonym partners use for a job seeker; never the citizen service number."""

ConsentId = NewType("ConsentId", str)
"""A consent record's id."""

EventId = NewType("EventId", str)
"""A record's stable event id, used for de-duplication and audit."""
