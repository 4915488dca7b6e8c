from __future__ import annotations

import json
import math

import pytest

from loadgen.summary import NO_RESPONSE, Result, Summary, percentile


def test_percentile_interpolates_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def _summary() -> Summary:
    summary = Summary()
    for i in range(8):
        summary.record(Result("valuation", 200, "HIT", 0.001 * (i + 1), ("v", i % 2)))
    summary.record(Result("valuation", 200, "MISS", 0.05, ("v", 2)))
    summary.record(Result("areas", 200, "MISS", 0.04, ("a", "buy")))
    summary.record(Result("areas", 200, "BYPASS", 0.03, ("a", "rent")))
    summary.record(Result("valuation", 404, None, 0.002, ("v", "bad")))
    summary.record(Result("valuation", NO_RESPONSE, None, 10.0, ("v", 3)))
    summary.elapsed = 2.0
    return summary


def test_counts_ratios_and_keys() -> None:
    summary = _summary()
    assert summary.requests == 13 and summary.errors == 1
    assert summary.statuses == {200: 11, 404: 1, NO_RESPONSE: 1}
    assert summary.hit_ratio == 8 / 10  # bypasses are not lookups
    assert summary.endpoint_hit_ratio("areas") == 0.0
    assert summary.endpoint_hit_ratio("property_types") is None
    assert summary.distinct_keys == 5  # failed requests name no cache key
    assert summary.latency("HIT")["p50"] == pytest.approx(0.0045)


def test_report_and_json() -> None:
    summary = _summary()
    text = summary.format()
    assert "hit ratio 80.0%" in text and "no response: 1" in text and "HIT 8  MISS 2" in text
    data = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert data["cache"] == {"HIT": 8, "MISS": 2, "BYPASS": 1, "none": 2}
    assert data["latency_seconds"]["MISS"]["p50"] == pytest.approx(0.045)
    assert set(data["latency_seconds"]) == {"HIT", "MISS", "BYPASS", "none", "all"}
