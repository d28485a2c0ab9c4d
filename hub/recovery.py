"""Recovering from a broker data loss (detected by :mod:`hub.continuity`).

The order matters, and it is the same wherever the hub recovers (``rmt-hub up``, the
reliability tests):

1. **the cluster**: the embedded broker restarted on its old address when it died;
2. **topics**: the catalogue applied again (empty topics, right partition counts);
3. **schemas**: the registry's view written back to its store topic, ids unchanged,
   because records replayed by partners carry those ids;
4. **consent**: the consent feed rebuilt from the consent register (the source of truth)
   *before* any record is routed again — a router that started on an empty feed would
   refuse every record for lack of consent;
5. **workers**: router and monitor workers restarted, so they rebuild their state from
   the rebuilt topics instead of carrying on with positions that no longer exist;
6. **a new incarnation** stamped: from here on, losses are measured against it;
7. **replay**: partners re-publish from their connectors what they published since the
   lost incarnation was stamped. Re-imports are idempotent by event id (the SDK skips
   ids already on the outbox), so a partner may simply replay too much.

A failing step stops the recovery with :class:`RecoveryFailed` and no new incarnation is
stamped, so the next check reports the loss again and the recovery is retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hub.config import HubSettings
from hub.continuity import ContinuityGuard, ContinuityReport, ContinuityWatch, Incarnation
from hub.errors import HubError
from topics import apply_to_cluster
from topics.catalogue import TopicCatalogue

__all__ = [
    "Guardian",
    "RecoveryFailed",
    "RecoveryResult",
    "RecoveryStep",
    "apply_topics",
    "rebuild_consent_feed",
    "recover",
    "republish_schemas",
    "restart_broker",
    "start_workers",
    "stop_workers",
]

_LOG = logging.getLogger(__name__)


class RecoveryFailed(HubError):
    """A recovery step failed; the loss stays reported until a recovery completes."""


@dataclass(frozen=True)
class RecoveryStep:
    """One step: a name for the log, and what to do (returns a short detail, or None)."""

    name: str
    run: Callable[[], str | None]


@dataclass
class RecoveryResult:
    report: ContinuityReport
    incarnation: Incarnation | None = None
    done: list[tuple[str, str | None, float]] = field(default_factory=list)
    """(step, detail, seconds) of every step that ran, in order."""

    def summary(self) -> str:
        steps = "; ".join(f"{name}: {detail}" if detail else name for name, detail, _ in self.done)
        new = self.incarnation.id if self.incarnation else "(not stamped)"
        return f"recovered from broker data loss ({steps}); new incarnation {new}"


def recover(
    guard: ContinuityGuard,
    report: ContinuityReport,
    steps: Sequence[RecoveryStep],
    *,
    replay: Sequence[RecoveryStep] = (),
) -> RecoveryResult:
    """Run ``steps``, stamp a new incarnation, then run the ``replay`` steps."""
    result = RecoveryResult(report)
    for step in (*steps, None, *replay):
        if step is None:
            result.incarnation = guard.stamp()
            _LOG.warning("broker continuity: new incarnation %s stamped", result.incarnation.id)
            continue
        began = time.monotonic()
        _LOG.warning("recovery: %s", step.name)
        try:
            detail = step.run()
        except Exception as exc:
            _LOG.critical("recovery failed at '%s': %s", step.name, exc)
            raise RecoveryFailed(f"recovery failed at '{step.name}': {exc}") from exc
        result.done.append((step.name, detail, time.monotonic() - began))
    _LOG.warning("%s", result.summary())
    return result


# --- the standard steps ------------------------------------------------------------------------


class _Restartable(Protocol):
    @property
    def running(self) -> bool: ...

    def start(self) -> object: ...

    def stop(self, timeout_s: float = ...) -> None: ...

    def wait_ready(self, timeout_s: float = ...) -> object: ...


class _FeedRelay(Protocol):
    def verify_feed(self) -> int: ...

    def run_once(self) -> int: ...

    def has_pending(self) -> bool: ...


class _SchemaStore(Protocol):
    def republish(self) -> int: ...


class _Broker(Protocol):
    @property
    def running(self) -> bool: ...

    def restart(self) -> str: ...


def restart_broker(broker: _Broker) -> RecoveryStep:
    """Start the embedded broker again on its address if it died (it comes back empty)."""

    def run() -> str:
        if broker.running:
            return "running"
        return f"restarted on {broker.restart()}"

    return RecoveryStep("embedded broker", run)


def apply_topics(settings: HubSettings, catalogue: TopicCatalogue) -> RecoveryStep:
    """Create every catalogue topic again."""

    def run() -> str:
        return apply_to_cluster(settings, catalogue, recreate_drifted=True).summary()

    return RecoveryStep("topics", run)


def republish_schemas(store: _SchemaStore) -> RecoveryStep:
    """Write the embedded registry's schemas back to its store topic (ids unchanged)."""
    return RecoveryStep("schema store", lambda: f"{store.republish()} records rewritten")


def rebuild_consent_feed(relay: _FeedRelay, timeout_s: float = 60.0) -> RecoveryStep:
    """Requeue what the consent feed lost and republish it from the register, now."""

    def run() -> str:
        requeued = relay.verify_feed()
        deadline = time.monotonic() + timeout_s
        while True:
            try:  # the first send may meet a client that lived through the loss
                relay.run_once()
                if not relay.has_pending():  # (the relay's own loop may have sent some)
                    return f"{requeued} changes requeued and republished"
            except HubError as exc:
                _LOG.warning("recovery: consent feed: %s; retrying", exc)
            if time.monotonic() > deadline:
                raise RecoveryFailed(f"consent changes still unpublished after {timeout_s:.0f}s")
            time.sleep(0.2)

    return RecoveryStep("consent feed", run)


def stop_workers(workers: Sequence[_Restartable]) -> RecoveryStep:
    """Stop workers first: nothing may be routed before consent is back."""

    def run() -> str:
        for worker in workers:
            worker.stop()
        return f"{len(workers)} stopped"

    return RecoveryStep("stop workers", run)


def start_workers(workers: Sequence[_Restartable], ready_timeout_s: float = 90.0) -> RecoveryStep:
    """Start the workers again and wait until each has loaded its partitions."""

    def run() -> str:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready(timeout_s=ready_timeout_s)
        return f"{len(workers)} started"

    return RecoveryStep("start workers", run)


class Guardian:
    """Broker continuity for a running hub: watch, and recover on a loss (``rmt-hub up``).

    ``steps()`` and ``replay()`` build the recovery's steps when a loss is found (so they
    see the processes as they are then). ``state`` and ``headline`` describe the last
    event for a live view: ``ok``, ``lost`` (recovering), ``recovered`` or ``failed``."""

    def __init__(
        self,
        guard: ContinuityGuard,
        *,
        steps: Callable[[], Sequence[RecoveryStep]],
        replay: Callable[[], Sequence[RecoveryStep]] = lambda: (),
        broker: _Broker | None = None,
        interval_s: float = 2.0,
    ) -> None:
        self.guard = guard
        self._steps = steps
        self._replay = replay
        self._broker = broker
        self.state = "ok"
        self.headline = ""
        self.results: list[RecoveryResult] = []
        self.watch = ContinuityWatch(
            guard,
            self._on_loss,
            interval_s=interval_s,
            keep_alive=self._keep_broker_alive if broker is not None else None,
        )

    def _keep_broker_alive(self) -> None:
        if self._broker is not None and not self._broker.running:
            if getattr(self._broker, "persistent", False):
                _LOG.warning("the embedded broker died; starting it again (with its data)")
            else:
                _LOG.critical("the embedded broker died; starting it again (it comes back empty)")
            self._broker.restart()

    def _on_loss(self, report: ContinuityReport) -> None:
        self.state = "lost"
        self.headline = report.message()
        try:
            result = recover(self.guard, report, self._steps(), replay=self._replay())
        except RecoveryFailed as exc:
            self.state = "failed"
            self.headline = f"{report.message()}\n{exc} (retrying at the next check)"
            raise
        self.results.append(result)
        self.state = "recovered"
        lost_at = report.checked_at.strftime("%H:%M:%S")
        self.headline = f"broker data loss found at {lost_at} UTC; {result.summary()}"

    def start(self) -> Guardian:
        self.watch.start()
        return self

    def stop(self) -> None:
        self.watch.stop()
