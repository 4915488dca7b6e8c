"""The helpers that read expressions out of the Grafana files and make them runnable."""

from __future__ import annotations

import pytest

from grafana.expressions import (
    alert_expressions,
    counters_without_rate,
    dashboard_expressions,
    label_values_query,
    metric_names,
    range_windows,
    substitute,
    variables_used,
)


@pytest.mark.parametrize(
    "expr, bad",
    [
        ("sum(rate(a_total[5m]))", []),
        ('increase(a_total{x=~"$v"}[$__range])', []),
        ("histogram_quantile(0.9, sum by (le) (irate(a_bucket{x='y'}[1m])))", []),
        ("a_total", ["a_total"]),
        ("sum by (endpoint) (a_total)", ["a_total"]),
        ("a_count / rate(a_sum[5m])", ["a_count"]),
        ("avg_over_time(a_total[5m])", ["a_total"]),
        ("rate(a_total[5m]) + a_total", ["a_total"]),
        ('up{job="x_total"}', []),  # a label value, not a metric
        ("a_total_ratio", []),
        ("# a_total in a comment\nrate(a_total[1m])", []),
    ],
)
def test_counters_without_rate(expr: str, bad: list[str]) -> None:
    assert counters_without_rate(expr) == bad


def test_metric_names_skip_functions_keywords_and_label_lists() -> None:
    expr = (
        'sum by (endpoint, reason) (rate(m_total{job="a"}[5m]))\n'
        "/ on (endpoint) group_left\n"
        "(max without (le) (level:rule:rate5m) > 0) and ignoring (x) up offset 5m"
    )
    assert metric_names(expr) == {"m_total", "level:rule:rate5m", "up"}


def test_substitute_replaces_every_syntax_and_refuses_unknown_variables() -> None:
    values = {"a": "1", "__rate_interval": "2m"}
    assert substitute("$a ${a} ${a:regex} [[a]] [$__rate_interval]", values) == "1 1 1 1 [2m]"
    with pytest.raises(KeyError, match=r"\$b"):
        substitute('x{y=~"$b"}', values)
    assert variables_used('rate(x{e=~"$endpoint"}[$__rate_interval])') == {
        "endpoint",
        "__rate_interval",
    }


def test_label_values_become_a_series_query() -> None:
    assert label_values_query("label_values(m_total, endpoint)") == "group by (endpoint) (m_total)"
    assert label_values_query('label_values(up{job="a"},instance)') == (
        'group by (instance) (up{job="a"})'
    )
    assert label_values_query("label_values(node)") == 'group by (node) ({__name__=~".+"})'
    with pytest.raises(ValueError):
        label_values_query("query_result(up)")


def test_range_windows() -> None:
    assert range_windows('rate(a[$__rate_interval]) + b{c="[x]"} offset 5m') == ["$__rate_interval"]


def test_expressions_are_found_in_rows_and_alert_data() -> None:
    board = {
        "uid": "u",
        "panels": [
            {"title": "p", "targets": [{"refId": "A", "expr": "up"}]},
            {
                "title": "r",
                "type": "row",
                "panels": [{"title": "q", "targets": [{"refId": "B", "expr": "x"}]}],
            },
        ],
    }
    assert list(dashboard_expressions(board)) == [("u / p / A", "up"), ("u / q / B", "x")]
    rules = {
        "groups": [
            {
                "name": "g",
                "rules": [
                    {
                        "uid": "r",
                        "data": [
                            {"refId": "A", "datasourceUid": "p", "model": {"expr": "up"}},
                            {"refId": "B", "datasourceUid": "__expr__", "model": {}},
                        ],
                    }
                ],
            }
        ]
    }
    assert list(alert_expressions(rules)) == [("g / r / A", "up")]
