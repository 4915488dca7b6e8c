"""The 7 d view reads the hourly recording rules, and answers what the raw metrics answer.

Two Prometheus servers hold the same scenarios.rollout: `rollout_prometheus`
loads no rules (the raw path), `hourly` loads monitoring/'s hourly groups, whose
history `promtool tsdb create-blocks-from rules` backfills after a first look
without it. Each page's query functions then run on both over the 7 d window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from dashboard.prom import PromClient
from dashboard.queries.buckets import BUCKET, RULE, bucket_increases, uses_rule
from dashboard.queries.common import Scope, rule_fits, tiled_increase
from dashboard.queries.endpoints import endpoint_table, latency, requests_by_result
from dashboard.queries.rollout import hit_ratio, ratio_rules
from dashboard.queries.scorecard import scorecard
from dashboard.queries.totals import RULES, _minus, request_totals
from dashboard.view import TimeWindow
from tests.dashboard.conftest import PROMETHEUS_CONFIG, SentClient
from tests.dashboard.rulefill import backfill_rules, recording_groups, write_rules
from tests.dashboard.scenarios import rollout
from tests.dashboard.synthetic import backfill
from tests.support.procs import PrometheusServer

HOUR = 3600
GROUPS = ("cachewatch-recording-1h", "cachewatch-recording-buckets-1h")


@dataclasses.dataclass
class Hourly:
    prom: PrometheusServer
    fitted_before_backfill: bool


@pytest.fixture(scope="module")
def hourly(tmp_path_factory: pytest.TempPathFactory, rollout_t0: int) -> Iterator[Hourly]:
    config_dir = tmp_path_factory.mktemp("hourly")
    groups = recording_groups(*GROUPS)
    write_rules(config_dir / "rules.yml", groups)
    prom = PrometheusServer(PROMETHEUS_CONFIG + "rule_files: [rules.yml]\n", config_dir=config_dir)
    backfill(rollout(rollout_t0), prom.dir / "data")
    prom.start()
    try:
        client = PromClient(prom.url, timeout=10)
        before = uses_rule(client, week(rollout_t0))
        backfill_rules(prom, groups, rollout_t0 - 9 * HOUR, rollout_t0)
        yield Hourly(prom, before)
    finally:
        prom.cleanup()


def week(t0: int) -> TimeWindow:
    return TimeWindow.ending(t0, "7d")


@pytest.fixture
def ruled(hourly: Hourly) -> Iterator[SentClient]:
    client = SentClient(hourly.prom.url)
    yield client
    client.close()


def steady(frame: pd.DataFrame, t0: int) -> pd.DataFrame:
    """Points whose hour lies wholly in the steady state (from t0 - 4h)."""
    return frame[frame["time"] >= pd.Timestamp(t0 - 3 * HOUR, unit="s", tz="UTC")]


def by_series(frame: pd.DataFrame) -> dict[Any, float]:
    return frame.set_index(["series", "time"])["value"].to_dict()


def test_the_rules_serve_only_once_they_have_the_history(
    hourly: Hourly, ruled: SentClient, rollout_t0: int
) -> None:
    assert not hourly.fitted_before_backfill  # loaded, but evaluated only since the start
    assert uses_rule(ruled, week(rollout_t0))
    # the 24 h view's points are 5 minutes apart: an hourly rule does not fit them
    assert not uses_rule(ruled, TimeWindow.ending(rollout_t0, "24h"))
    # a Prometheus without the rules: never
    assert not rule_fits(ruled, "no:such_rule:rate1h", week(rollout_t0), BUCKET)


def test_the_weeks_table_from_the_rules_is_the_raw_one(
    ruled: SentClient, client: PromClient, rollout_t0: int
) -> None:
    window = week(rollout_t0)
    got = endpoint_table(ruled, window, Scope()).set_index("endpoint")
    raw = endpoint_table(client, window, Scope()).set_index("endpoint")
    assert list(got.index) == ["areas", "property_types", "valuation"]
    for column in ("requests", "hit_ratio", "before_p50", "after_p50", "ttl", "gain"):
        assert got[column].to_list() == pytest.approx(raw[column].to_list(), rel=0.01), column
    # no raw counter or bucket was read over the week
    assert not any("[7d]" in expr for expr in ruled.sent), ruled.sent
    assert any(RULE in expr for expr in ruled.sent)
    assert any(RULES["requests"].format("1h") in expr for expr in ruled.sent)


def test_the_weeks_scorecard_from_the_rules_is_the_raw_one(
    ruled: SentClient, client: PromClient, rollout_t0: int
) -> None:
    window = week(rollout_t0)
    got, raw = scorecard(ruled, window, Scope()), scorecard(client, window, Scope())
    assert [c.status for c in got] == [c.status for c in raw]
    assert [c.value for c in got] == pytest.approx([c.value for c in raw], rel=0.01)
    assert {c.key: c.status for c in got}["redis_errors"] == "fail"  # the incident, 5 h ago
    assert not any(f"{BUCKET}{{" in expr for expr in ruled.sent)


def test_the_weeks_charts_from_the_rules_match_raw_in_steady_state(
    ruled: SentClient, client: PromClient, rollout_t0: int
) -> None:
    window = week(rollout_t0)
    for chart in (latency, requests_by_result, hit_ratio):
        got = steady(chart(ruled, window, Scope()), rollout_t0)
        raw = steady(chart(client, window, Scope()), rollout_t0)
        assert len(got) > 0 and set(got["series"]) == set(raw["series"]), chart.__name__
        got_values, raw_values = by_series(got), by_series(raw)
        assert got_values.keys() == raw_values.keys(), chart.__name__
        for key, value in raw_values.items():
            # a rule's sample is up to one evaluation (1 m for the buckets) older than the point
            assert got_values[key] == pytest.approx(value, rel=0.01), (chart.__name__, key)
    assert any(ratio_rules("1h")[0] in expr for expr in ruled.sent)
    assert not any(f"rate({BUCKET}" in expr for expr in ruled.sent)


def test_one_endpoint_over_the_week(ruled: SentClient, client: PromClient, rollout_t0: int) -> None:
    window, scope = week(rollout_t0), Scope(endpoint="valuation")
    got = bucket_increases(ruled, window, scope, by=("cache",))
    raw = bucket_increases(client, window, scope, by=("cache",))
    keys = ["cache", "le"]
    merged = got.merge(raw, on=keys, suffixes=("_rule", "_raw"))
    assert len(merged) == len(raw) > 0
    assert merged["value_rule"].to_list() == pytest.approx(merged["value_raw"].to_list(), rel=0.01)
    totals = request_totals(ruled, window, scope, by=("endpoint",))
    assert totals["hits"]["endpoint"].to_list() == ["valuation"]


def test_tiling_needs_a_whole_number_of_rule_windows(ruled: SentClient, rollout_t0: int) -> None:
    odd = TimeWindow(start=rollout_t0 - 5400, end=rollout_t0, step=60, label="90m")
    assert tiled_increase(ruled, odd, RULE, 'endpoint="areas"', ["le"]) is None
    assert tiled_increase(ruled, odd, "not_a_rate_rule", 'endpoint="areas"', ["le"]) is None
    hours = TimeWindow(start=rollout_t0 - 2 * HOUR, end=rollout_t0, step=60, label="2h")
    two = tiled_increase(ruled, hours, RULE, 'endpoint="areas", cache="hit"', [])
    assert two is not None and len(two) == 1
    # areas: 8 hits a step in the steady state; the load wave scales it, so only > 0
    assert two["value"].iloc[0] > 0


def test_differences_of_totals_match_labels_and_never_go_below_zero() -> None:
    a = pd.DataFrame({"endpoint": ["x", "y"], "value": [10.0, 5.0]})
    b = pd.DataFrame({"endpoint": ["x"], "value": [10.000001]})
    out = _minus(a, b, ["endpoint"]).set_index("endpoint")["value"].to_dict()
    assert out == {"x": 0.0, "y": 5.0}
    assert _minus(a, b, [])["value"].to_list() == pytest.approx([5.0 - 0.000001])
    assert _minus(a.iloc[0:0], b, ["endpoint"]).empty
