"""How one router worker runs (not the hub's settings: those are :class:`HubSettings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["OPTIONS_ENV", "RouterOptions"]

OPTIONS_ENV = "HUB_ROUTER_OPTIONS"
"""Environment variable carrying the options (JSON) to a worker subprocess."""


class RouterOptions(BaseModel):
    """Group timings, batching, and where the worker reports its status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_timeout_s: float = Field(
        default=6.0,
        ge=1.0,
        description="Consumer-group session timeout. Apache Kafka's minimum is 6 s; on the "
        "embedded broker 3 s makes rebalances after a crash faster.",
    )
    heartbeat_interval_s: float = Field(default=1.0, gt=0)
    commit_interval_s: float = Field(default=1.0, gt=0, description="How often faust commits.")
    batch_max: int = Field(default=500, ge=1, description="Records per routed batch, at most.")
    batch_within_s: float = Field(
        default=0.005, gt=0, description="Wait this long to fill a batch."
    )
    fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        description="How long a fetch of the outboxes may wait for data (faust's own default, "
        "1500 ms, is the latency on the embedded broker, which holds fetches that long).",
    )
    flush_interval_s: float = Field(
        default=0.2, gt=0, description="How often pending erasure notices are written."
    )
    group_id: str | None = Field(
        default=None, description="Consumer group; default '<topic prefix>-router'."
    )
    status_file: Path | None = Field(
        default=None, description="Where the worker writes its status (JSON) when it changes."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    monitor_events: bool = Field(
        default=True,
        description="Write the national monitor's events of every accepted record "
        "(hub.router.monitoring); needs the monitor key (HUB_MONITOR_KEY or the data dir).",
    )

    metrics_port: int | None = Field(
        default=9102,
        description="Serve /metrics, /healthz and /readyz on this port (0: a free port, "
        "reported in the status file as 'metrics_port'; None or negative: not served).",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="The interface /metrics is served on ('0.0.0.0' in a container, so "
        "Prometheus can scrape it).",
    )

    @classmethod
    def for_embedded_broker(cls, **overrides: object) -> RouterOptions:
        """Quick group membership on the embedded broker (docs/embedded-broker.md)."""
        base: dict[str, object] = {"session_timeout_s": 3.0, "heartbeat_interval_s": 0.5}
        return cls.model_validate(base | overrides)
