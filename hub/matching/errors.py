"""The matching's error."""

from __future__ import annotations

from hub.errors import HubError

__all__ = ["MatchingError"]


class MatchingError(HubError):
    """The matching's reference data is malformed, or an input cannot be matched."""
