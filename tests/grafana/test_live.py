"""Every query of the dashboards and alert rules returns data from the real service.

`live_prometheus` (tests/conftest.py) is a Prometheus with monitoring/'s rules scraping
the real service while `cachewatch load` sends it traffic. A query "returns data" when
at least one series has a finite value. Exceptions, listed in docs/grafana.md:

- queries that read only `ALERTS`: no alert fires under healthy traffic, so they may
  be empty; then Prometheus must at least hold the alerting rules that would fill them;
- alert queries gated by a traffic floor (`and on (endpoint) <rate> >= floor`): empty
  only if no endpoint reaches the floor, which the test then checks, after checking
  that the gated value itself has data.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import pytest
import requests

from grafana.expressions import (
    alert_expressions,
    all_panels,
    dashboard_expressions,
    label_values_query,
    metric_names,
    substitute,
    variable_queries,
)
from grafana.model import Json
from tests.grafana.conftest import GRAFANA_VALUES, load_dashboards, load_yaml

BOARDS = list(load_dashboards().values())
PANEL_QUERIES = [q for board in BOARDS for q in dashboard_expressions(board)]
ALERT_QUERIES = list(alert_expressions(load_yaml("alerting/rules.yml")))
#: Metrics that stay empty while all is well, and why.
QUIET = {"ALERTS": "no alert fires under healthy traffic"}
FLOOR = "\nand on (endpoint)\n"
ENDPOINTS = {"areas", "property_types", "valuation"}


class LivePrometheus(Protocol):
    url: str

    def query(self, expr: str) -> list[dict[str, Any]]: ...


def finite(result: list[dict[str, Any]]) -> list[float]:
    values = [float(series["value"][1]) for series in result]
    return [v for v in values if math.isfinite(v)]


def run(live: LivePrometheus, expr: str) -> list[dict[str, Any]]:
    return live.query(substitute(expr, GRAFANA_VALUES))


def bounded_panels() -> list[tuple[str, Json]]:
    """(where, target) of panels whose values must lie within their axis (0..1 ratios)."""
    found = []
    for board in BOARDS:
        for panel in all_panels(board):
            defaults = panel.get("fieldConfig", {}).get("defaults", {})
            if defaults.get("min") == 0 and defaults.get("max") == 1:
                for target in panel["targets"]:
                    found.append((f"{panel['title']} / {target['refId']}", target))
    return found


@pytest.mark.parametrize("where, expr", PANEL_QUERIES, ids=[w for w, _ in PANEL_QUERIES])
def test_panel_query_returns_data(live_prometheus: LivePrometheus, where: str, expr: str) -> None:
    result = run(live_prometheus, expr)
    if metric_names(expr) <= QUIET.keys() and not result:
        rules = requests.get(f"{live_prometheus.url}/api/v1/rules", timeout=10).json()
        alerting = [
            r for g in rules["data"]["groups"] for r in g["rules"] if r["type"] == "alerting"
        ]
        assert alerting, f"{where}: empty, and no alerting rule is loaded that could fill it"
        return
    assert finite(result), f"{where} returned no data: {result}\n{expr}"


@pytest.mark.parametrize("where, target", bounded_panels(), ids=[w for w, _ in bounded_panels()])
def test_ratios_lie_between_0_and_1(
    live_prometheus: LivePrometheus, where: str, target: Json
) -> None:
    values = finite(run(live_prometheus, target["expr"]))
    assert values and all(0 <= v <= 1 for v in values), f"{where}: {values}"


def test_variables_list_the_endpoints_and_instances(live_prometheus: LivePrometheus) -> None:
    for board in BOARDS:
        for where, query in variable_queries(board):
            result = live_prometheus.query(label_values_query(query))
            label = query.rsplit(",", 1)[1].strip(" )")
            values = {series["metric"][label] for series in result}
            if label == "endpoint":
                assert values == ENDPOINTS, where
            else:
                assert values, f"{where} lists no {label}"


@pytest.mark.parametrize("where, expr", ALERT_QUERIES, ids=[w for w, _ in ALERT_QUERIES])
def test_alert_query_returns_data(live_prometheus: LivePrometheus, where: str, expr: str) -> None:
    if finite(run(live_prometheus, expr)):
        return
    assert FLOOR in expr, f"{where} returned no data\n{expr}"
    gated, floor = expr.split(FLOOR)
    assert finite(run(live_prometheus, gated)), f"{where}: the gated value has no data"
    rate, minimum = floor.split(">=")
    traffic = finite(run(live_prometheus, rate))
    assert traffic, f"{where}: the traffic floor's rate {rate.strip()} has no data"
    assert max(traffic) < float(minimum), f"{where} is empty although traffic {traffic} ≥ floor"


def test_a_misspelt_query_returns_no_data(live_prometheus: LivePrometheus) -> None:
    """The control: "returns data" tells a real metric from a typo."""
    assert (
        finite(
            run(
                live_prometheus,
                'sum(rate(cachewatch_cache_hit_total{endpoint=~"$endpoint"}[$__rate_interval]))',
            )
        )
        == []
    )
    assert finite(
        run(
            live_prometheus,
            'sum(rate(cachewatch_cache_hits_total{endpoint=~"$endpoint"}[$__rate_interval]))',
        )
    )
