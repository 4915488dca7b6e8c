"""dashboard.quantiles against hand computations and against Prometheus itself."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
import pytest

from dashboard.prom import PromClient
from dashboard.quantiles import histogram_quantile
from dashboard.view import TimeWindow


def buckets(counts: Mapping[str, float], **labels: str) -> pd.DataFrame:
    return pd.DataFrame([{**labels, "le": le, "value": v} for le, v in counts.items()])


def one(q: float, counts: Mapping[str, float]) -> float:
    return float(histogram_quantile(q, buckets(counts), by=[])["value"].iloc[0])


def test_linear_interpolation_inside_the_ranks_bucket() -> None:
    counts = {"0.1": 2, "0.2": 6, "0.5": 10, "+Inf": 10}
    assert one(0.5, counts) == pytest.approx(0.1 + 0.1 * (5 - 2) / 4)
    assert one(0.9, counts) == pytest.approx(0.2 + 0.3 * (9 - 6) / 4)
    assert one(0.1, counts) == pytest.approx(0.1 * 1 / 2)  # the first bucket starts at 0


def test_the_edges_follow_prometheus() -> None:
    assert one(0.99, {"0.1": 5, "+Inf": 10}) == 0.1  # in +Inf: the highest finite bound
    assert math.isnan(one(0.5, {"0.1": 0, "+Inf": 0}))  # no observations
    assert math.isnan(one(0.5, {"0.1": 3, "0.2": 5}))  # no +Inf bucket
    assert math.isnan(one(0.5, {"+Inf": 5}))  # a single bucket
    assert one(0.5, {"0.1": 4, "0.2": 3, "+Inf": 4}) == pytest.approx(0.05)  # made monotonic


def test_groups_are_computed_apart() -> None:
    frame = pd.concat(
        [
            buckets({"0.1": 1, "0.2": 2, "+Inf": 2}, cache="hit"),
            buckets({"0.1": 0, "0.2": 4, "+Inf": 4}, cache="miss"),
        ]
    )
    out = histogram_quantile(0.5, frame, by=["cache"]).set_index("cache")["value"]
    assert out.to_dict() == pytest.approx({"hit": 0.1, "miss": 0.15})
    assert histogram_quantile(0.5, frame.iloc[0:0], by=["cache"]).empty


def test_the_same_as_prometheus_over_a_day_of_changing_traffic(
    client: PromClient, rollout_t0: int
) -> None:
    """Warm-up, incident and steady state: every point equals PromQL's histogram_quantile."""
    window = TimeWindow.ending(rollout_t0, "24h")
    selector = (
        "cachewatch_http_request_duration_seconds_bucket"
        f'{{cache=~"hit|miss"}}[{window.rate_window}]'
    )
    rates = client.query_range(
        f"sum by (cache, le) (rate({selector}))", window.start, window.end, window.step
    )
    for q in (0.5, 0.95, 0.99):
        ours = histogram_quantile(q, rates, by=["time", "cache"]).dropna()
        theirs = client.query_range(
            f"histogram_quantile({q}, sum by (cache, le) (rate({selector})))",
            window.start, window.end, window.step,
        )  # fmt: skip
        merged = ours.merge(theirs, on=["time", "cache"], suffixes=("_ours", "_prom"))
        assert len(merged) == len(theirs) == len(ours) > 150
        assert merged["value_ours"].to_list() == pytest.approx(merged["value_prom"].to_list())
