"""The endpoints page's queries against Prometheus holding scenarios.rollout (steady state)."""

from __future__ import annotations

import pytest

from dashboard.prom import PromClient
from dashboard.queries.common import Scope
from dashboard.queries.endpoints import (
    endpoint_table,
    latency,
    misses_by_reason,
    requests_by_result,
)
from dashboard.view import TimeWindow


def test_the_rollout_table_before_after_ttl_gain(client: PromClient, rollout_t0: int) -> None:
    table = endpoint_table(client, TimeWindow.ending(rollout_t0, "1h"), Scope())
    rows = table.set_index("endpoint")
    assert list(rows.index) == ["areas", "property_types", "valuation"]
    # p50 by hand: areas misses 2 in (25, 50] ms -> 37.5 ms; hits 4 in (0.5, 1] + 4 in (1, 2.5]
    # -> rank 4 ends the first bucket: 1 ms. property_types: 75 ms and 1.75 ms.
    # valuation: misses 2 in (100, 250] ms -> 175 ms; hits 6 in (2.5, 5] ms -> 3.75 ms.
    expected = {
        "areas": (0.0375, 0.001, 3600, 0.8),
        "property_types": (0.075, 0.00175, 3600, 0.9),
        "valuation": (0.175, 0.00375, 600, 0.75),
    }
    for name, (before, after, ttl, ratio) in expected.items():
        row = rows.loc[name]
        assert row["before_p50"] == pytest.approx(before)
        assert row["after_p50"] == pytest.approx(after)
        assert row["ttl"] == ttl
        assert row["gain"] == pytest.approx(before / after)
        assert row["hit_ratio"] == pytest.approx(ratio)
    # requests per step: areas 10, property_types 10, valuation 9 (load alike for all)
    assert rows.loc["areas", "requests"] / rows.loc["valuation", "requests"] == pytest.approx(
        10 / 9
    )


def test_the_table_follows_the_endpoint_filter(client: PromClient, rollout_t0: int) -> None:
    table = endpoint_table(client, TimeWindow.ending(rollout_t0, "1h"), Scope(endpoint="areas"))
    assert table["endpoint"].to_list() == ["areas"]


def test_no_data_gives_an_empty_table(client: PromClient, rollout_t0: int) -> None:
    table = endpoint_table(client, TimeWindow.ending(rollout_t0 - 9 * 3600, "1h"), Scope())
    assert table.empty and "gain" in table.columns


def test_latency_percentiles_of_hits_and_misses(client: PromClient, rollout_t0: int) -> None:
    frame = latency(client, TimeWindow.ending(rollout_t0, "1h"), Scope())
    values = frame.groupby("series")["value"]
    # hits (23 per step): <=1ms 4, <=2.5ms 17, <=5ms 23; misses (5): <=50ms 2, <=100ms 3, <=250ms 5
    expected = {
        "hit p50": 0.001 + 0.0015 * (11.5 - 4) / 13,
        "hit p95": 0.0025 + 0.0025 * (21.85 - 17) / 6,
        "hit p99": 0.0025 + 0.0025 * (22.77 - 17) / 6,
        "miss p50": 0.05 + 0.05 * (2.5 - 2) / 1,
        "miss p95": 0.1 + 0.15 * (4.75 - 3) / 2,
        "miss p99": 0.1 + 0.15 * (4.95 - 3) / 2,
    }
    assert set(values.groups) == set(expected)
    for name, seconds in expected.items():
        assert values.min()[name] == pytest.approx(seconds)
        assert values.max()[name] == pytest.approx(seconds)


def test_requests_by_result(client: PromClient, rollout_t0: int) -> None:
    frame = requests_by_result(client, TimeWindow.ending(rollout_t0, "1h"), Scope())
    wide = frame.pivot(index="time", columns="series", values="value")
    assert set(wide.columns) == {"hit", "miss", "bypass", "rejected (4xx)"}
    # per step: 23 hits, 5 misses, 1 bypass, 0.5 rejected; the load moves them together
    assert (wide["hit"] / wide["miss"]).to_list() == pytest.approx([23 / 5] * len(wide))
    assert (wide["bypass"] / wide["miss"]).to_list() == pytest.approx([1 / 5] * len(wide))
    assert (wide["rejected (4xx)"] / wide["miss"]).to_list() == pytest.approx([0.1] * len(wide))
    assert wide["hit"].max() > wide["hit"].min()  # the load does vary


def test_misses_by_reason(client: PromClient, rollout_t0: int) -> None:
    frame = misses_by_reason(client, TimeWindow.ending(rollout_t0, "1h"), Scope())
    wide = frame.pivot(index="time", columns="series", values="value")
    assert {"miss: cold", "miss: expired", "bypass: uncacheable", "bypass: circuit_open"} <= set(
        wide.columns
    )
    # cold: 1 + 1 + 1, expired: 1 + 0 + 1, uncacheable: 1 (valuation)
    assert (wide["miss: cold"] / wide["miss: expired"]).to_list() == pytest.approx([1.5] * 241)
    assert (wide["bypass: uncacheable"] / wide["miss: cold"]).to_list() == pytest.approx(
        [1 / 3] * 241
    )
    assert wide["bypass: circuit_open"].max() == 0
