"""A router core over a test catalogue, without a broker (the in-process router tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from consent.policy import load_policy
from hub.router.processing import RouterCore
from schemas import load_schemas
from topics import TopicCatalogue, load_partners

if TYPE_CHECKING:
    from hub.router.monitoring import MonitorFeed

__all__ = ["router_core"]


def router_core(
    catalogue: TopicCatalogue,
    *,
    partitions: int,
    clock: Callable[[], datetime] | None = None,
    monitor: MonitorFeed | None = None,
) -> RouterCore:
    """The directory, policy and schemas of the repository; ``clock`` None: the real one."""
    optional: dict[str, Any] = {} if clock is None else {"clock": clock}
    return RouterCore(
        catalogue=catalogue,
        directory=load_partners(),
        policy=load_policy(),
        schemas=load_schemas(),
        partitions=partitions,
        monitor=monitor,
        **optional,
    )
