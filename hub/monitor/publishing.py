"""Which reports the aggregator worker publishes: every period's, when it changed.

The worker (:mod:`hub.monitor.stream`) asks :meth:`ReportPublisher.due` on a timer and
writes what it returns to the reports topic (:func:`hub.monitor.topic.publish_reports`);
only after the write succeeded does it call :meth:`ReportPublisher.sent`, so a failed
write is tried again on the next tick. Why the worker publishes at all:
docs/decisions/0016-monitor-access-by-need.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.monitor.aggregate import Aggregator
from hub.monitor.ledger import Budgets
from hub.monitor.report import build_report, render_json
from hub.monitor.suppression import Rule

__all__ = ["ReportPublisher"]


@dataclass
class ReportPublisher:
    """Tracks what was published per reports-topic key (a period) and what is due."""

    aggregator: Aggregator
    budgets: Budgets
    rule: Rule
    _published: dict[str, str] = field(default_factory=dict)
    _applied: int = -1
    _pending: int = -1

    def due(self) -> list[tuple[str, str]]:
        """(key, JSON report) of every period whose report differs from what was
        published; nothing when no event was applied since the last publication."""
        applied = self.aggregator.applied
        if applied == self._applied:
            return []
        self._pending = applied
        due: list[tuple[str, str]] = []
        for period in self.aggregator.periods():
            text = render_json(
                build_report(self.aggregator, period, budgets=self.budgets, rule=self.rule)
            )
            if self._published.get(period) != text:
                due.append((period, text))
        return due

    def sent(self, reports: list[tuple[str, str]]) -> None:
        """``reports`` (from :meth:`due`) are on the topic."""
        self._published.update(reports)
        self._applied = self._pending
