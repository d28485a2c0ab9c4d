"""Which reports the aggregator worker publishes (no broker: the plain tracker)."""

from __future__ import annotations

from hub.monitor.aggregate import Aggregator
from hub.monitor.ledger import load_budgets
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.monitor.publishing import ReportPublisher
from hub.monitor.report import build_report, render_json
from hub.monitor.suppression import Rule
from tests.monitor.synthetic import RouterStandIn, generate


def test_each_period_is_due_once_and_again_only_when_its_report_changed() -> None:
    keys = MonitorPseudonymiser(MonitorKeyring({1: b"\x13" * 32}))
    events = list(RouterStandIn(keys).run(generate(200, seed=3).records))
    aggregator = Aggregator()
    aggregator.apply_all(events[:-20])
    budgets = load_budgets(None)
    publisher = ReportPublisher(aggregator, budgets, Rule())
    due = publisher.due()
    assert [key for key, _ in due] == aggregator.periods()
    for key, text in due:
        assert text == render_json(build_report(aggregator, key, budgets=budgets))
    assert publisher.due() == due  # not sent yet: due again
    publisher.sent(due)
    assert publisher.due() == []  # nothing applied since
    last = events[-20:]
    aggregator.apply_all(last)
    changed = publisher.due()
    assert changed
    assert {key for key, _ in changed} <= {e.period for e in last}
    aggregator.apply_all(last)  # duplicates change nothing
    publisher.sent(changed)
    assert publisher.due() == []
