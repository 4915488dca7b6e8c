"""Each page's callback as a function and over HTTP: data, no data, Prometheus down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import plotly.graph_objects as go
import pytest
import requests

from dashboard.config import DashboardConfig
from dashboard.context import AppContext
from dashboard.pages import default_pages, endpoints, redis, rollout
from dashboard.pages.base import run_view
from dashboard.view import ViewState
from tests.dashboard.conftest import PROMETHEUS_CONFIG, DashboardServer
from tests.dashboard.dashhttp import call, outputs, page_callback
from tests.support.procs import PrometheusServer

PAGES = {"rollout": rollout, "endpoints": endpoints, "redis": redis}


def run(ctx: AppContext, name: str, search: str = "") -> list[Any]:
    module = PAGES[name]
    state = ViewState.from_search(search)
    return run_view(ctx, state, module.PREFIX, module.CHARTS, module.PARTS, module.render)


def context(url: str, clock: float | None = None) -> AppContext:
    config = DashboardConfig(prometheus_url=url, prometheus_timeout=5)
    return AppContext(config, clock=(lambda: clock) if clock else __import__("time").time)


@pytest.fixture(scope="module")
def empty_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A Prometheus that scrapes nothing: up, but without any cachewatch data."""
    prom = PrometheusServer(PROMETHEUS_CONFIG, config_dir=tmp_path_factory.mktemp("empty"))
    prom.start()
    yield prom
    prom.cleanup()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_shows_data_without_a_banner(
    name: str, rollout_prometheus: PrometheusServer, rollout_t0: int
) -> None:
    banner, status, *rest = run(context(rollout_prometheus.url, rollout_t0), name, "?range=24h")
    module = PAGES[name]
    figures = rest[: len(module.CHARTS)]
    assert banner is None
    assert status.startswith("Last 24h · a point every 300s · updated ")
    for figure in figures:
        assert [t for t in figure.data if t.name], figure.layout.title.text  # not the anchor
        assert figure.layout.uirevision == f"{module.PREFIX}|24h|all"
        go.Figure(figure.to_plotly_json())  # built unvalidated: Plotly accepts every property


def test_the_rollout_scorecard_is_rendered(
    rollout_prometheus: PrometheusServer, rollout_t0: int
) -> None:
    *_, scorecard = run(context(rollout_prometheus.url, rollout_t0), "rollout", "?range=1h")
    rows = scorecard.children[1:]
    assert [r.id for r in rows] == [
        "criterion-hits", "criterion-hit_ratio", "criterion-hit_p95", "criterion-db_load",
        "criterion-redis_errors", "criterion-speedup",
    ]  # fmt: skip
    assert all("criterion-pass" in r.className for r in rows)


def test_the_endpoints_table_and_its_csv_rows(
    rollout_prometheus: PrometheusServer, rollout_t0: int
) -> None:
    ctx = context(rollout_prometheus.url, rollout_t0)
    *_, table, records = run(ctx, "endpoints", "?range=1h&endpoint=valuation")
    assert [r["endpoint"] for r in records] == ["valuation"]
    assert records[0]["ttl"] == 600 and records[0]["gain"] == pytest.approx(0.175 / 0.00375)
    body = table.children[1].children[1].children
    assert [cell.children for cell in body[0].children] == [
        "valuation", f"{records[0]['requests']:,.0f}", "75.0%", "175.0 ms",
        "3.8 ms", "600 s", "46.7×",
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(PAGES))
def test_prometheus_down_gives_a_banner_and_empty_charts(name: str, closed_port_url: str) -> None:
    banner, _status, *rest = run(context(closed_port_url), name)
    text = str(banner)
    assert "banner-error" in text and "Prometheus is unreachable" in text
    assert "PROMETHEUS_URL" in text and closed_port_url in text
    for figure in rest[: len(PAGES[name].CHARTS)]:
        assert figure.data == () and figure.layout.annotations[0].text == "No data: see above"


@pytest.mark.parametrize("name", list(PAGES))
def test_no_data_yet_gives_a_banner_saying_what_to_check(
    name: str, empty_prometheus: PrometheusServer
) -> None:
    banner, *_ = run(context(empty_prometheus.url), name)
    text = str(banner)
    assert "banner-warning" in text and "No cachewatch data yet." in text
    assert "/targets" in text and "scrapes the service" in text


def test_an_unexpected_failure_is_a_banner_not_a_traceback(
    rollout_prometheus: PrometheusServer,
) -> None:
    def broken(ctx: AppContext, state: ViewState) -> Any:
        raise ZeroDivisionError("boom")

    banner, *_ = run_view(
        context(rollout_prometheus.url), ViewState(), "x", {"x-chart": "X"}, [], broken
    )
    assert "This page failed to load its data." in str(banner) and "boom" not in str(banner)


def test_the_page_registry() -> None:
    pages = default_pages()
    assert [(p.path, p.name) for p in pages] == [
        ("/", "Rollout"), ("/endpoints", "Endpoints"), ("/redis", "Redis"),
        ("/ttl", "TTL review"),
    ]  # fmt: skip


@pytest.fixture
def served(dashboard_server: Callable[..., DashboardServer]) -> Callable[[str], DashboardServer]:
    return lambda url: dashboard_server(url)


def test_over_http_pages_are_200_and_callbacks_answer(
    served: Callable[[str], DashboardServer], rollout_prometheus: PrometheusServer
) -> None:
    server = served(rollout_prometheus.url)
    for path in ("/", "/endpoints", "/redis", "/endpoints?range=7d&endpoint=areas", "/nope"):
        assert requests.get(server.url + path, timeout=10).status_code == 200
    for prefix in PAGES:
        response = call(server.url, page_callback(server.url, prefix), search="?range=6h")
        assert response.status_code == 200
        answer = outputs(response)
        assert answer[f"{prefix}-banner.children"] is None
        assert answer[f"{prefix}-status.children"].startswith("Last 6h")


def test_over_http_prometheus_down_is_still_200_with_a_banner(
    served: Callable[[str], DashboardServer], closed_port_url: str
) -> None:
    server = served(closed_port_url)
    for prefix in PAGES:
        assert requests.get(f"{server.url}/{'' if prefix == 'rollout' else prefix}").ok
        response = call(server.url, page_callback(server.url, prefix))
        assert response.status_code == 200
        assert "Prometheus is unreachable" in str(outputs(response)[f"{prefix}-banner.children"])
    assert "Traceback" not in server.log()
