"""The recording rules of monitoring/rules, evaluated by a real Prometheus over the real service
under known `cachewatch load` traffic (the session's `live_prometheus`, tests/support/live.py).

The expected values come from two witnesses that know nothing of PromQL: the load generator's
summary (every response's X-Cache header) and the service's own counters read from /metrics once
the burst was over. Rules are read at `settled_at`, an evaluation that saw the whole burst and
nothing after it.

Tolerance: 1e-9, i.e. float rounding only. rate() extrapolates each series' increase by a factor
that depends only on the sample timestamps (identical for every series of one scrape target) and
on how far the first sample is from 0; every counter was first scraped at 0 before the burst, so
the factor is the same for numerator and denominator and cancels in every ratio.
"""

from __future__ import annotations

import pytest

from tests.support.live import ENDPOINTS, LiveStack

TOLERANCE = 1e-9


def _at_settle(live: LiveStack, expr: str) -> float | None:
    return live.value(expr, time_=live.settled_at)


def _by_endpoint(live: LiveStack, expr: str) -> dict[str, float]:
    result = live.query(expr, time_=live.settled_at)
    return {r["metric"]["endpoint"]: float(r["value"][1]) for r in result}


def test_the_known_traffic_is_what_the_service_counted(live_prometheus: LiveStack) -> None:
    summary, counts = live_prometheus.summary, live_prometheus.counts
    assert summary.errors == 0 and summary.statuses[200] == summary.requests
    for endpoint in ENDPOINTS:
        seen = summary.by_endpoint.get(endpoint)
        assert seen, f"the burst sent nothing to {endpoint}"
        assert (seen["HIT"], seen["MISS"]) == (counts[endpoint]["hits"], counts[endpoint]["misses"])
        assert seen["HIT"] > 0 and seen["MISS"] > 0, (endpoint, seen)
    # The pattern: 50 keys in turn, seven times over, each one missed once when cold (twice at
    # most, should two clients ask for a cold key at once).
    assert summary.distinct_keys <= summary.cache["MISS"] <= 2 * summary.distinct_keys
    assert 0.7 < summary.hit_ratio < 0.9  # type: ignore[operator]


def test_job_hit_ratio_is_the_traffic_hit_ratio(live_prometheus: LiveStack) -> None:
    value = _at_settle(live_prometheus, "job:cachewatch_cache_hit_ratio:ratio_rate5m")
    assert value == pytest.approx(live_prometheus.summary.hit_ratio, abs=TOLERANCE)


def test_endpoint_hit_ratio_is_each_endpoints_traffic_hit_ratio(live_prometheus: LiveStack) -> None:
    ratios = _by_endpoint(live_prometheus, "endpoint:cachewatch_cache_hit_ratio:ratio_rate5m")
    expected = {e: live_prometheus.summary.endpoint_hit_ratio(e) for e in ENDPOINTS}
    assert ratios == pytest.approx(expected, abs=TOLERANCE)


def test_served_from_cache_counts_every_request(live_prometheus: LiveStack) -> None:
    counts = live_prometheus.counts
    ratios = _by_endpoint(live_prometheus, "endpoint:cachewatch_served_from_cache:ratio_rate5m")
    expected = {e: c["hits"] / (c["hits"] + c["misses"] + c["bypasses"]) for e, c in counts.items()}
    assert ratios == pytest.approx(expected, abs=TOLERANCE)


def test_db_load_reduction_is_one_minus_computations_per_request(
    live_prometheus: LiveStack,
) -> None:
    counts = live_prometheus.counts
    requests = {e: c["hits"] + c["misses"] + c["bypasses"] for e, c in counts.items()}
    ratios = _by_endpoint(live_prometheus, "endpoint:cachewatch_db_load_reduction:ratio_rate5m")
    expected = {e: 1 - counts[e]["computations"] / requests[e] for e in ENDPOINTS}
    assert ratios == pytest.approx(expected, abs=TOLERANCE)
    overall = _at_settle(live_prometheus, "job:cachewatch_db_load_reduction:ratio_rate5m")
    computations = sum(c["computations"] for c in counts.values())
    assert overall == pytest.approx(1 - computations / sum(requests.values()), abs=TOLERANCE)


def test_lookup_rates_are_in_the_proportion_of_the_lookups(live_prometheus: LiveStack) -> None:
    rates = _by_endpoint(live_prometheus, "endpoint:cachewatch_cache_lookups:rate5m")
    counts = live_prometheus.counts
    lookups = {e: c["hits"] + c["misses"] for e, c in counts.items()}
    # Each rate is its count times one shared factor (see the module's docstring).
    factor = rates["valuation"] / lookups["valuation"]
    assert factor > 0
    assert rates == pytest.approx({e: n * factor for e, n in lookups.items()}, rel=TOLERANCE)


def test_latency_quantiles_exist_for_hits_and_misses(live_prometheus: LiveStack) -> None:
    # The request histogram's children are created by their first request, so a scrape never
    # sees them at 0 and rate() misses their first increase: a series whose requests all fell
    # between two scrapes has no rate, and no quantile. Valuation's hits and misses span several.
    for q in ("p50", "p95", "p99"):
        expr = f"endpoint_cache:cachewatch_http_request_duration_seconds:{q}_rate5m"
        result = live_prometheus.query(expr, time_=live_prometheus.settled_at)
        seen = {(r["metric"]["endpoint"], r["metric"]["cache"]) for r in result}
        assert {("valuation", "hit"), ("valuation", "miss")} <= seen, expr
        # histogram_quantile interpolates within the buckets: 0.5 ms ... 10 s.
        assert all(0 < float(r["value"][1]) <= 10 for r in result), result


def test_the_ratio_stays_defined_after_the_burst(live_prometheus: LiveStack) -> None:
    # The trickle after the burst requests cached keys only: all hits, so the live ratio
    # can only have risen since `settled_at`, and it never goes absent.
    now = live_prometheus.value("job:cachewatch_cache_hit_ratio:ratio_rate5m")
    assert now is not None
    assert now >= live_prometheus.summary.hit_ratio - TOLERANCE  # type: ignore[operator]
