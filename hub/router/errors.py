"""The router's errors, all under :class:`hub.errors.HubError`.

RouterError
├── RouterConfigError   the cluster does not match what the router needs (topics, partitions)
└── WriteFailed         a batch of inbox/audit/dead-letter writes was not acknowledged
"""

from __future__ import annotations

from hub.errors import HubError

__all__ = ["RouterConfigError", "RouterError", "WriteFailed"]


class RouterError(HubError):
    """Root of the router's errors."""


class RouterConfigError(RouterError):
    """A topic the router needs is missing, or is not co-partitioned with the others."""


class WriteFailed(RouterError):
    """Writes of a batch were not acknowledged; the batch is processed again after a reload."""
