"""Charts use the recording rules when they fit, and raw metrics otherwise.

A Prometheus holding scenarios.rollout loads monitoring/'s 5-minute recording
groups; at first the rules have no history (only what Prometheus evaluated since
it started), then `promtool tsdb create-blocks-from rules` backfills it
(`rulefill.backfill_rules`) and Prometheus is restarted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from dashboard.queries.buckets import BUCKET
from dashboard.queries.common import Scope, rule_fits
from dashboard.queries.endpoints import latency
from dashboard.queries.rollout import HITS, OVERALL, RULES, hit_ratio
from dashboard.view import TimeWindow
from tests.dashboard.conftest import PROMETHEUS_CONFIG, SentClient
from tests.dashboard.rulefill import backfill_rules, recording_groups, write_rules
from tests.dashboard.scenarios import rollout
from tests.dashboard.synthetic import backfill
from tests.support.procs import PrometheusServer

GROUPS = ("cachewatch-recording-5m", "cachewatch-recording-latency")
HOUR = 3600


@pytest.fixture(scope="module")
def ruled_prometheus(
    tmp_path_factory: pytest.TempPathFactory, rollout_t0: int
) -> Iterator[PrometheusServer]:
    config_dir = tmp_path_factory.mktemp("ruled")
    write_rules(config_dir / "rules.yml", recording_groups(*GROUPS))
    prom = PrometheusServer(PROMETHEUS_CONFIG + "rule_files: [rules.yml]\n", config_dir=config_dir)
    backfill(rollout(rollout_t0), prom.dir / "data")
    prom.start()
    yield prom
    prom.cleanup()


def backfill_5m(prom: PrometheusServer, start: int, end: int) -> None:
    backfill_rules(prom, recording_groups(*GROUPS), start, end)


def steady(frame: pd.DataFrame, t0: int) -> pd.DataFrame:
    return frame[frame["time"] >= pd.Timestamp(t0 - 3 * HOUR, unit="s", tz="UTC")]


def test_rules_are_used_only_once_they_have_the_history(
    ruled_prometheus: PrometheusServer, rollout_t0: int
) -> None:
    client = SentClient(ruled_prometheus.url)
    assert set(RULES) <= client.recording_rules()
    day = TimeWindow.ending(rollout_t0, "24h")
    # loaded, but evaluated only since Prometheus started: the raw metrics go further back
    assert not rule_fits(client, RULES[0], day, HITS)
    raw = hit_ratio(client, day, Scope())
    assert not any(RULES[0] in expr for expr in client.ranges)

    backfill_5m(ruled_prometheus, rollout_t0 - 8 * HOUR, rollout_t0)
    client = SentClient(ruled_prometheus.url)
    assert rule_fits(client, RULES[0], day, HITS)
    ruled = hit_ratio(client, day, Scope())
    assert any(RULES[0] in expr for expr in client.ranges)
    assert any(RULES[1] in expr for expr in client.ranges)
    expected = {"areas": 0.8, "property_types": 0.9, "valuation": 0.75, OVERALL: 23 / 28}
    for frame in (raw, ruled):
        values = steady(frame, rollout_t0).groupby("series")["value"]
        assert values.min().to_dict() == pytest.approx(expected)
        assert values.max().to_dict() == pytest.approx(expected)
    # where both have data they agree, warm-up included, but for the points next to a
    # change of traffic: a rule's sample is up to one evaluation (15 s) older than the point
    both = raw.merge(ruled, on=["time", "series"], suffixes=("_raw", "_rule"))
    assert len(both) > 0.9 * len(raw)
    differ = (both["value_rule"] - both["value_raw"]).abs()
    assert (differ < 1e-9).mean() > 0.9 and differ.max() < 0.05


def test_one_endpoints_latency_comes_from_the_rules(
    ruled_prometheus: PrometheusServer, rollout_t0: int
) -> None:
    client = SentClient(ruled_prometheus.url)
    day = TimeWindow.ending(rollout_t0, "24h")
    if not rule_fits(client, RULES[0], day, HITS):  # when run alone, backfill first
        backfill_5m(ruled_prometheus, rollout_t0 - 8 * HOUR, rollout_t0)
    frame = latency(client, day, Scope(endpoint="areas"))
    assert any("p95_rate5m" in expr for expr in client.ranges)
    assert rule_fits(client, "endpoint_cache:cachewatch_http_request_duration_seconds:p50_rate5m",
                     day, BUCKET)  # fmt: skip
    values = steady(frame, rollout_t0).groupby("series")["value"]
    # areas: hits 4 in (0.5, 1] ms + 4 in (1, 2.5] ms; misses 2 in (25, 50] ms
    assert values.max()["hit p50"] == pytest.approx(0.001)
    assert values.max()["miss p50"] == pytest.approx(0.0375)
    # all endpoints, or another range: the rules don't fit, raw buckets serve
    sent: list[Any] = client.ranges
    sent.clear()
    latency(client, day, Scope())
    latency(client, TimeWindow.ending(rollout_t0, "1h"), Scope(endpoint="areas"))
    assert not any("rate5m" in expr for expr in sent)
