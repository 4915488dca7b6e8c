"""Hit ratio, rollout start and the scorecard against Prometheus holding scenarios.rollout.

Hand computations use the steady-state table in scenarios.py (per step, both
instances alike; the load factor scales every series alike, so ratios and
quantiles do not depend on it).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard.prom import PromClient
from dashboard.queries.common import Scope
from dashboard.queries.rollout import OVERALL, hit_ratio, rollout_start
from dashboard.queries.scorecard import evaluate, scorecard
from dashboard.view import TimeWindow

HOUR = 3600


def by_key(criteria: list) -> dict:
    return {c.key: c for c in criteria}


def test_hit_ratio_per_endpoint_and_overall_in_steady_state(
    client: PromClient, rollout_t0: int
) -> None:
    frame = hit_ratio(client, TimeWindow.ending(rollout_t0, "1h"), Scope())
    steady = frame.groupby("series")["value"]
    # areas 8/(8+2), property_types 9/(9+1), valuation 6/(6+2), all 23/(23+5)
    expected = {"areas": 0.8, "property_types": 0.9, "valuation": 0.75, OVERALL: 23 / 28}
    assert set(steady.groups) == set(expected)
    for name, ratio in expected.items():
        assert steady.min()[name] == pytest.approx(ratio, abs=1e-12)
        assert steady.max()[name] == pytest.approx(ratio, abs=1e-12)
    assert steady.size()[OVERALL] == 241  # a point every 15 s over the hour, both ends


def test_the_endpoint_filter_leaves_one_series(client: PromClient, rollout_t0: int) -> None:
    frame = hit_ratio(client, TimeWindow.ending(rollout_t0, "1h"), Scope(endpoint="valuation"))
    assert set(frame["series"]) == {"valuation"}
    assert frame["value"].to_list() == pytest.approx([0.75] * len(frame))


def test_the_hit_ratio_climbs_during_warm_up(client: PromClient, rollout_t0: int) -> None:
    frame = hit_ratio(client, TimeWindow.ending(rollout_t0, "24h"), Scope())
    overall = frame[frame["series"] == OVERALL].set_index("time")["value"]
    hourly = [overall[overall.index <= _ts(rollout_t0 - h * HOUR)].iloc[-1] for h in (7, 6, 5)]
    assert hourly == sorted(hourly) and hourly[0] < 0.5 < 0.8 < overall.iloc[-1]


def _ts(epoch: float) -> pd.Timestamp:
    return pd.Timestamp(epoch, unit="s", tz="UTC")


def test_the_rollout_is_marked_at_the_first_sample_or_the_configured_time(
    client: PromClient, rollout_t0: int
) -> None:
    day = TimeWindow.ending(rollout_t0, "24h")
    frame = hit_ratio(client, day, Scope())
    mark = rollout_start(frame, day, configured=None)
    assert mark is not None and mark.text == "first sample"
    first_data = rollout_t0 - 8 * HOUR  # the first rate needs two samples: one step later
    assert first_data <= mark.at.timestamp() <= first_data + day.step

    configured = datetime.fromtimestamp(rollout_t0 - 7 * HOUR, UTC)
    mark = rollout_start(frame, day, configured=configured)
    assert mark is not None and (mark.at, mark.text) == (configured, "rollout start")

    hour = TimeWindow.ending(rollout_t0, "1h")  # data covers the whole hour: no mark
    assert rollout_start(hit_ratio(client, hour, Scope()), hour, configured=None) is None
    assert rollout_start(frame, hour, configured=configured) is None  # outside the window


def test_the_scorecard_passes_in_steady_state_with_the_measured_values(
    client: PromClient, rollout_t0: int
) -> None:
    card = by_key(scorecard(client, TimeWindow.ending(rollout_t0, "1h"), Scope()))
    assert {k: c.status for k, c in card.items()} == dict.fromkeys(
        ["hits", "hit_ratio", "hit_p95", "db_load", "redis_errors", "speedup"], "pass"
    )
    assert card["hit_ratio"].value == pytest.approx(23 / 28)
    # hits by bucket: <=1ms 4, <=2.5ms 4+9, <=5ms 6 -> rank 0.95*23 = 21.85 in (2.5, 5] ms
    assert card["hit_p95"].value == pytest.approx(0.0025 + 0.0025 * (21.85 - 17) / 6)
    # computations: 5 misses + 1 bypass for 29 requests
    assert card["db_load"].value == pytest.approx(1 - 6 / 29)
    assert card["redis_errors"].value == 0
    # hit p50: rank 11.5 in (1, 2.5] ms; miss p50: rank 2.5 in (50, 100] ms = 75 ms
    hit_p50 = 0.001 + 0.0015 * (11.5 - 4) / 13
    assert card["speedup"].value == pytest.approx(1 - hit_p50 / 0.075)
    assert card["speedup"].measured == "98% faster: hit p50 1.9 ms vs miss p50 75.0 ms"
    assert card["hit_ratio"].measured.startswith("82.1% of ")


def test_the_incident_fails_the_redis_criterion(client: PromClient, rollout_t0: int) -> None:
    card = by_key(scorecard(client, TimeWindow.ending(rollout_t0, "6h"), Scope()))
    errors = card["redis_errors"]
    assert errors.status == "fail" and errors.value is not None and errors.value > 0
    assert "a Redis node was down" in errors.measured
    assert "the circuit breaker opened" in errors.measured
    # valuation had no errors, but the node was down and the breaker open all the same
    valuation = by_key(
        scorecard(client, TimeWindow.ending(rollout_t0, "6h"), Scope(endpoint="valuation"))
    )
    assert valuation["redis_errors"].value == 0
    assert valuation["redis_errors"].status == "fail"


def test_before_any_data_every_criterion_lacks_data(client: PromClient, rollout_t0: int) -> None:
    card = scorecard(client, TimeWindow.ending(rollout_t0 - 9 * HOUR, "1h"), Scope())
    assert [c.status for c in card] == ["no_data"] * 6
    assert "is the service scraped?" in card[0].measured


def test_few_requests_are_not_enough_data_yet() -> None:
    card = by_key(evaluate({"hits": 0, "misses": 10, "bypass": 0, "backend": 10, "scraped": 1}))
    assert card["hits"].status == "no_data" and "only 10 requests" in card["hits"].measured
    assert card["hit_ratio"].status == "no_data"
    assert card["redis_errors"].status == "pass"  # no errors is a verdict even with few requests


def test_a_cache_that_never_hits_fails() -> None:
    measured = {"hits": 0, "misses": 500, "bypass": 0, "backend": 500, "scraped": 1}
    card = by_key(evaluate({**measured, "miss_p50": 0.08}))
    assert card["hits"].status == "fail" and card["hit_ratio"].status == "fail"
    assert card["db_load"].status == "fail" and card["db_load"].value == 0
    assert card["speedup"].status == "no_data"
