"""The dashboard in headless Chromium (Debian's), against a real Prometheus with data.

Saves screenshots of every page: to docs/screenshots/ (the README's) when
CACHEWATCH_SCREENSHOTS=1, else to tests/artifacts/screenshots/ (git-ignored), so
a test run leaves the work tree as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import DashboardServer
from tests.support.procs import REPO, PrometheusServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("CACHEWATCH_SCREENSHOTS") == "1"
    else REPO / "tests" / "artifacts" / "screenshots"
)
PAGES = [("/", "rollout", 1), ("/endpoints", "endpoints", 3), ("/redis", "redis", 5)]
LOADED = """(n) => {
  const status = document.querySelector('.status-line');
  const graphs = [...document.querySelectorAll('.js-plotly-plot')];
  return status && status.textContent.includes('updated') && graphs.length === n
    && graphs.every(g => g.layout
                         && !(g.layout.annotations || []).some(a => a.text === 'Loading…'));
}"""


class Tab:
    """A browser page with its console errors collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def open(self, url: str, charts: int) -> Any:
        response = self.page.goto(url)
        self.page.wait_for_function(LOADED, arg=charts, timeout=30_000)
        return response

    def traces(self, index: int = 0) -> list[str]:
        return self.page.evaluate(
            "(i) => document.querySelectorAll('.js-plotly-plot')[i]"
            ".data.map(t => t.name).filter(n => n)",  # not the range's invisible anchor
            index,
        )


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    try:
        yield Tab(context.new_page())
    finally:
        context.close()


@pytest.fixture
def live(
    dashboard_server: Callable[..., DashboardServer],
    rollout_prometheus: PrometheusServer,
    ttl_reviews: Path,
    closed_port_url: str,
) -> DashboardServer:
    """The app on the rollout data, with two weekly TTL reviews and no Redis to run one."""
    return dashboard_server(
        rollout_prometheus.url,
        DASHBOARD_REFRESH_SECONDS="2",
        TTL_REVIEW_DIR=str(ttl_reviews),
        REDIS_URL=closed_port_url.replace("http://", "redis://") + "/0",
    )


def test_every_page_shows_its_charts_without_banner_or_console_error(
    tab: Tab, live: DashboardServer
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, name, charts in PAGES:
        response = tab.open(f"{live.url}{path}?range=24h", charts)
        assert response.status == 200
        assert tab.page.locator(".banner").count() == 0, tab.page.inner_text(".banner")
        for i in range(charts):
            assert tab.traces(i), f"{name}: chart {i} has no data"
        tab.page.wait_for_timeout(300)  # let Plotly finish drawing before the picture
        tab.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert tab.page.locator(".stat").count() == 6  # the Redis cards, last page
    assert tab.errors == []


TTL_LOADED = """() => {
  const status = document.querySelector('#ttl-status');
  const graphs = [...document.querySelectorAll('.js-plotly-plot')];
  return status && status.textContent.startsWith('Week ') && graphs.length === 3
    && graphs.every(g => g.data && g.data.some(t => t.name === 'hit ratio'));
}"""
SAW_DISABLED = """() => {
  window.sawDisabled = false;
  const button = document.querySelector('#ttl-run');
  new MutationObserver(() => { if (button.disabled) window.sawDisabled = true; })
    .observe(button, {attributes: true});
}"""


def test_the_ttl_review_page(tab: Tab, live: DashboardServer) -> None:
    page = tab.page
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.goto(f"{live.url}/ttl").status == 200
    page.wait_for_function(TTL_LOADED, timeout=30_000)
    assert page.locator(".nav-link").all_inner_texts()[-1] == "TTL review"
    assert page.locator(".banner").count() == 0
    assert page.locator(".ttl-table").count() == 3  # recommendations, reality, last week
    assert page.locator(".ttl-table").first.locator("tr[data-endpoint]").count() == 3
    assert "confidence band" in tab.traces(0) and "deployed" in page.inner_text(".js-plotly-plot")
    page.wait_for_timeout(300)  # let Plotly finish drawing before the picture
    page.screenshot(path=str(SHOTS / "ttl.png"), full_page=True)
    with page.expect_download() as caught:
        page.locator("#ttl-curve-table-csv").click()
    assert caught.value.suggested_filename == "ttl-curve.csv"
    lines = Path(caught.value.path()).read_text().splitlines()
    assert lines[0].startswith("endpoint,ttl_seconds,requests,hits,hit_ratio,")
    assert {line.split(",")[0] for line in lines[1:]} == {"areas", "property_types", "valuation"}
    page.evaluate(SAW_DISABLED)
    page.locator("#ttl-run").click()
    page.wait_for_selector("#ttl-run-message .banner-error")
    assert "Redis is unreachable" in page.inner_text("#ttl-run-message")
    assert page.evaluate("window.sawDisabled") and page.locator("#ttl-run").is_enabled()
    assert page.locator(".js-plotly-plot").count() == 3  # the review is still shown
    assert tab.errors == []


def test_the_scorecard_and_the_rollout_chart(tab: Tab, live: DashboardServer) -> None:
    tab.open(f"{live.url}/?range=1h", 1)
    verdicts = tab.page.locator(".criterion .verdict").all_inner_texts()
    assert verdicts == ["PASS"] * 6
    assert tab.traces() == ["all endpoints", "areas", "property_types", "valuation"]
    tab.open(f"{live.url}/?range=24h", 1)
    assert tab.page.locator("#criterion-redis_errors .verdict").inner_text() == "FAIL"
    assert "first sample" in tab.page.locator(".js-plotly-plot").inner_text()
    assert "target 80%" in tab.page.locator(".js-plotly-plot").inner_text()


def test_the_controls_keep_the_state_in_the_url(tab: Tab, live: DashboardServer) -> None:
    page = tab.page
    tab.open(f"{live.url}/", 1)
    page.locator("#range label", has_text="6h").click()
    page.wait_for_url("**/?range=6h")
    page.wait_for_function(
        "() => document.querySelector('.status-line').textContent.startsWith('Last 6h')"
    )
    page.locator("#endpoint").click()
    page.locator(".dash-dropdown-option", has_text="areas").click()
    page.wait_for_url("**/?range=6h&endpoint=areas")
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot').data.filter(t => t.name).length === 1"
    )
    assert tab.traces() == ["areas"]
    page.locator(".nav-link", has_text="Endpoints").click()  # links keep the state
    page.wait_for_url("**/endpoints?range=6h&endpoint=areas")
    page.wait_for_selector("tr[data-endpoint]")
    assert page.locator("tr[data-endpoint]").all_inner_texts()[0].startswith("areas")
    assert page.locator("tr[data-endpoint]").count() == 1
    page.go_back()  # back to the rollout page, same state
    page.wait_for_url("**/?range=6h&endpoint=areas")
    assert tab.errors == []


def test_a_shared_url_opens_the_same_view(tab: Tab, live: DashboardServer) -> None:
    tab.open(f"{live.url}/endpoints?range=1h&endpoint=valuation", 3)
    page = tab.page
    page.wait_for_selector("tr[data-endpoint='valuation']")
    assert page.locator("#range label.selected").inner_text() == "1h"
    assert page.locator("#endpoint").inner_text() == "valuation"
    assert page.locator("tr[data-endpoint]").count() == 1
    assert page.locator(".status-line").inner_text().startswith("Last 1h")


def test_a_chart_downloads_as_csv(tab: Tab, live: DashboardServer) -> None:
    tab.open(f"{live.url}/?range=1h", 1)
    with tab.page.expect_download() as caught:
        tab.page.locator(".csv-button").first.click()
    download = caught.value
    assert download.suggested_filename == "rollout-hit-ratio.csv"
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0] == "series,x,y"
    assert {line.split(",")[0] for line in lines[1:]} == {
        "all endpoints", "areas", "property_types", "valuation",
    }  # fmt: skip
    assert lines[1].startswith("all endpoints,") and float(lines[1].split(",")[2]) == pytest.approx(
        23 / 28
    )


def test_the_table_downloads_as_csv(tab: Tab, live: DashboardServer) -> None:
    tab.open(f"{live.url}/endpoints?range=1h", 3)
    with tab.page.expect_download() as caught:
        tab.page.locator("#endpoints-table-csv").click()
    lines = Path(caught.value.path()).read_text().splitlines()
    assert lines[0] == "endpoint,requests,hit_ratio,before_p50,after_p50,ttl,gain"
    assert [line.split(",")[0] for line in lines[1:]] == ["areas", "property_types", "valuation"]


def test_the_refresh_keeps_the_zoom_and_a_new_range_resets_it(
    tab: Tab, live: DashboardServer
) -> None:
    page = tab.page
    tab.open(f"{live.url}/?range=1h", 1)
    graph = ".js-plotly-plot"
    xrange = "(sel) => document.querySelector(sel).layout.xaxis.range"
    unzoomed = page.evaluate(xrange, graph)
    box = page.locator(f"{graph} .nsewdrag").first.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)  # a user's zoom: drag a box
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    page.wait_for_timeout(300)
    zoom = page.evaluate(xrange, graph)
    assert zoom != unzoomed
    before = page.inner_text(".status-line")
    page.wait_for_function(  # the 2 s refresh ran and brought new data
        "(old) => document.querySelector('.status-line').textContent !== old", arg=before
    )
    page.wait_for_timeout(300)
    assert page.evaluate(xrange, graph) == zoom
    page.locator("#range label", has_text="6h").click()
    page.wait_for_function(
        "() => document.querySelector('.status-line').textContent.startsWith('Last 6h')"
    )
    page.wait_for_timeout(300)
    assert page.evaluate(xrange, graph) != zoom
    assert tab.errors == []


def test_prometheus_down_shows_the_banner_in_the_browser(
    tab: Tab, dashboard_server: Callable[..., DashboardServer], closed_port_url: str
) -> None:
    server = dashboard_server(closed_port_url)
    for path, name, charts in PAGES:
        response = tab.open(f"{server.url}{path}", charts)
        assert response.status == 200
        banner = tab.page.locator(".banner-error")
        assert banner.count() == 1
        text = banner.inner_text()
        assert "Prometheus is unreachable" in text and "PROMETHEUS_URL" in text
        assert closed_port_url in text
        assert "No data: see above" in tab.page.locator(".js-plotly-plot").first.inner_text()
        if name == "rollout":
            tab.page.screenshot(path=str(SHOTS / "prometheus-down.png"))
    assert tab.errors == []
    assert "Traceback" not in server.log()
