"""The monitor dashboard in a real browser: the aggregating worker (a subprocess, as
``rmt-hub up`` runs it) serves the bi-monthly report of synthetic monitor events; headless
Chromium opens it and checks the region rows, the charts and the suppressed-cell marks.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from hub.config import HubSettings
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.monitor.runtime import MonitorProcess, run_monitor
from hub.monitor.topic import MonitorCodec, publish_events
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry
from tests.helpers.monitor import drop_topics, make_monitor_env
from tests.monitor.synthetic import RouterStandIn, generate

if TYPE_CHECKING:  # imported in the tests: a missing package fails there with a clear message
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration


class Dashboard:
    def __init__(self, worker: MonitorProcess, period: str, events: int) -> None:
        self.worker = worker
        self.period = period
        self.events = events

    @property
    def url(self) -> str:
        return self.worker.report_url(self.period)


@pytest.fixture(scope="module")
def dashboard(
    hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    home = tmp_path_factory.mktemp("monitor-e2e")
    schemas_topic = f"_schemas-dashboard-{uuid.uuid4().hex[:8]}"
    registry_settings = hub_settings.model_copy(update={"schema_registry_topic": schemas_topic})
    with EmbeddedRegistry(registry_settings, port=0) as registry:
        settings = make_monitor_env(hub_settings, registry.url, home)
        try:
            topic = f"{settings.topic_prefix}.monitor.events"
            keys = MonitorPseudonymiser(MonitorKeyring({1: b"\x22" * 32}))
            events = list(RouterStandIn(keys).run(generate(300, seed=11).records))
            period = Counter(e.period for e in events).most_common(1)[0][0]
            chosen = [e for e in events if e.period == period]
            assert len(chosen) >= 200, Counter(e.period for e in events)
            with RegistryClient(registry.url) as client:
                publish_events(settings, topic, chosen, MonitorCodec(client))
            with run_monitor(settings, log_file=home / "monitor.log") as worker:
                worker.wait_ready(until=lambda s: s["events"] >= len(chosen))
                yield Dashboard(worker, period, len(chosen))
        finally:
            drop_topics(settings, schemas_topic)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


def test_the_dashboard_shows_regions_charts_and_suppressed_cells(
    dashboard: Dashboard, page: Page, artifacts: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    answer = page.goto(dashboard.url)
    assert answer is not None
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    expect(page).to_have_title(f"National monitor {dashboard.period}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("National monitor")
    expect(page.locator(".lead")).to_contain_text(dashboard.period)

    # region rows in the tables: every one of the 35 regions, then the national total
    tables = page.locator("table")
    assert tables.count() >= 5
    first = tables.first
    expect(first.locator("tbody tr", has_text="Groot Amsterdam")).to_have_count(1)
    expect(first.locator("tbody tr", has_text="Rijnmond")).to_have_count(1)
    expect(first.locator("tr.total")).to_contain_text("Netherlands")
    assert first.locator("tbody tr").count() >= 36

    # charts: inline SVG, with bars
    charts = page.locator("svg")
    assert charts.count() >= 1
    expect(charts.first).to_be_visible()
    assert page.locator("svg rect").count() > 0

    # suppressed cells: marked, and the legend says what the mark means
    marks = page.locator("td.sup")
    assert marks.count() >= 1
    expect(marks.first).to_have_text("•")
    expect(marks.first).to_have_attribute("title", "suppressed")
    expect(page.locator(".legend")).to_contain_text("suppressed")
    page.screenshot(path=str(artifacts / "monitor-dashboard.png"), full_page=True)


def test_the_selector_cuts_the_dashboard_to_one_region(
    dashboard: Dashboard, page: Page, artifacts: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    page.goto(dashboard.url)
    form = page.locator("form.selector")
    expect(form.locator("select[name=period]")).to_have_value(dashboard.period)
    form.locator("select[name=region]").select_option("RIJNMOND")
    form.get_by_role("button", name="Show").click()
    page.wait_for_url("**region=RIJNMOND**")
    expect(page.locator(".lead")).to_contain_text("Rijnmond")
    first = page.locator("table").first
    expect(first.locator("tbody tr", has_text="Rijnmond")).to_have_count(1)
    expect(first.locator("tbody tr", has_text="Groot Amsterdam")).to_have_count(0)
    expect(form.locator("select[name=region]")).to_have_value("RIJNMOND")
    page.screenshot(path=str(artifacts / "monitor-dashboard-region.png"), full_page=True)


def test_the_monitor_worker_serves_metrics_health_and_readiness(dashboard: Dashboard) -> None:
    base = dashboard.worker.report_url(dashboard.period).split("/monitor/")[0]
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    deadline = time.monotonic() + 30  # 503 while the consumer group rebalances
    while (ready := httpx.get(f"{base}/readyz", timeout=5)).status_code != 200:
        assert ready.status_code == 503, ready.text
        assert time.monotonic() < deadline, f"not ready within 30 s: {ready.text}"
        time.sleep(0.5)
    scraped = httpx.get(f"{base}/metrics", timeout=5).text
    counted = [
        float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line.startswith("rmt_records_in_total{") and 'partner="monitor"' in line
    ]
    assert sum(counted) == dashboard.events, scraped[:1500]


def test_the_dashboard_is_dutch_by_default_with_english_on_request(
    dashboard: Dashboard, browser: Browser, artifacts: Path
) -> None:
    """A Dutch browser (and one that asks for no language at all) gets the Dutch
    dashboard: lang="nl", Dutch words and amounts; its link gives the English one."""
    import re  # noqa: PLC0415

    from playwright.sync_api import expect  # noqa: PLC0415

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(dashboard.url)
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page).to_have_title(f"Landelijke monitor {dashboard.period}")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Landelijke monitor van de regionale mobiliteitsteams"
        )
        expect(page.locator(".lead")).to_contain_text("alle arbeidsmarktregio's")
        first = page.locator("table").first
        expect(first.locator("tr.total")).to_contain_text("Nederland (som van de regio's)")
        expect(page.locator("td.sup").first).to_have_attribute("title", "afgeschermd")
        expect(page.locator(".legend")).to_contain_text("afgeschermd")
        # an amount as the Dutch write it: euro sign, space, dots between thousands
        paid = page.locator(".kpi", has_text="betaald").locator("b")
        expect(paid).to_have_text(re.compile(r"^€\s\d{1,3}(\.\d{3})*$"))
        page.screenshot(path=str(artifacts / "monitor-dashboard-nl.png"), full_page=True)

        form = page.locator("form.selector")
        form.locator("select[name=region]").select_option("RIJNMOND")
        form.get_by_role("button", name="Tonen").click()
        page.wait_for_url("**region=RIJNMOND**")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page.locator(".lead")).to_contain_text("Rijnmond")

        page.get_by_role("link", name="English").click()
        page.wait_for_url("**lang=en**")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_contain_text("National monitor")
        expect(page.locator(".lead")).to_contain_text("Rijnmond")  # the region is kept
    finally:
        context.close()
    # no Accept-Language at all: Dutch
    plain = httpx.get(dashboard.url, timeout=10, headers={"Accept-Language": ""})
    assert '<html lang="nl">' in plain.text
