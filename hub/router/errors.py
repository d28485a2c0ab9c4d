"""The router's errors, all under :class:`hub.errors.HubError`.

RouterError
├── RouterConfigError   the cluster does not match what the router needs (topics, partitions)
├── RouterNotReady      not every assigned partition is loaded yet (readiness)
└── WriteFailed         a batch of inbox/audit/dead-letter writes was not acknowledged
"""

from __future__ import annotations

from hub.errors import HubError

__all__ = ["RouterConfigError", "RouterError", "RouterNotReady", "WriteFailed"]


class RouterError(HubError):
    """Root of the router's errors."""


class RouterConfigError(RouterError):
    """A topic the router needs is missing, or is not co-partitioned with the others."""


class WriteFailed(RouterError):
    """Writes of a batch were not acknowledged; the batch is processed again after a reload."""


class RouterNotReady(RouterError):
    """The worker has no assignment yet, or an assigned partition is still loading."""
