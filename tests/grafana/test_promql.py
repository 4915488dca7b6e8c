"""Every query in the Grafana files is valid PromQL, as judged by a real Prometheus.

Grafana's variables are replaced first, as Grafana does before a query leaves it.
"""

from __future__ import annotations

import pytest
import requests

from grafana.expressions import (
    alert_expressions,
    dashboard_expressions,
    label_values_query,
    substitute,
    variable_queries,
)
from tests.grafana.conftest import GRAFANA_VALUES, load_dashboards, load_yaml
from tests.support.procs import PrometheusServer

BOARDS = load_dashboards().values()
PANEL_QUERIES = [q for board in BOARDS for q in dashboard_expressions(board)]
VARIABLE_QUERIES = [(w, label_values_query(q)) for b in BOARDS for w, q in variable_queries(b)]
ALERT_QUERIES = list(alert_expressions(load_yaml("alerting/rules.yml")))
ALL_QUERIES = PANEL_QUERIES + VARIABLE_QUERIES + ALERT_QUERIES


def query_status(prom: PrometheusServer, expr: str) -> dict:
    return dict(requests.get(f"{prom.url}/api/v1/query", params={"query": expr}, timeout=10).json())


def test_there_are_queries_to_check() -> None:
    assert len(PANEL_QUERIES) >= 40 and len(VARIABLE_QUERIES) == 3 and len(ALERT_QUERIES) == 4


def test_the_parser_rejects_invalid_promql(promql_parser: PrometheusServer) -> None:
    """The control: without it, a parser that accepted anything would pass every check."""
    for broken in ("sum(rate(x[5m])", "rate(x)", "x{a=~}", "sum by (a) (x[$__rate_interval])"):
        body = query_status(promql_parser, broken)
        assert body["status"] == "error" and body["errorType"] == "bad_data", broken


@pytest.mark.parametrize("where, expr", ALL_QUERIES, ids=[w for w, _ in ALL_QUERIES])
def test_query_parses(promql_parser: PrometheusServer, where: str, expr: str) -> None:
    body = query_status(promql_parser, substitute(expr, GRAFANA_VALUES))
    assert body["status"] == "success", f"{where}: {body.get('error')}\n{expr}"


@pytest.mark.parametrize("values", [{"endpoint": "areas|valuation", "instance": "a:1|b:2"}])
def test_queries_parse_with_several_values_selected(
    promql_parser: PrometheusServer, values: dict[str, str]
) -> None:
    """A multi-value selection reaches Prometheus as a regex alternation."""
    for where, expr in PANEL_QUERIES:
        body = query_status(promql_parser, substitute(expr, {**GRAFANA_VALUES, **values}))
        assert body["status"] == "success", f"{where}: {body.get('error')}"
