"""The first-day demo history, loaded into a real Prometheus by promtool."""

from __future__ import annotations

import time

from cachewatch.demo import backfill, write_openmetrics
from tests.support.procs import PrometheusServer


def test_backfilled_history_answers_the_rollout_queries() -> None:
    end = time.time() - 300
    prom = PrometheusServer("global: {scrape_interval: 15s}\nscrape_configs: []\n")
    try:
        om = write_openmetrics(prom.dir / "demo.om", end=end, hours=3, step=60)
        backfill(om, prom.dir / "data")
        prom.start()
        at = end - 60
        ratio = prom.query(
            'sum(increase(cachewatch_cache_hits_total{demo="true"}[1h])) / ('
            'sum(increase(cachewatch_cache_hits_total{demo="true"}[1h])) + '
            'sum(increase(cachewatch_cache_misses_total{demo="true"}[1h])))',
            at,
        )
        # warming as 0.9 * (1 - exp(-t / 1.5 h)): between 2 h and 3 h in, about 0.68 to 0.79
        assert 0.6 < float(ratio[0]["value"][1]) < 0.85
        p95 = prom.query(
            "histogram_quantile(0.95, sum by (le) (rate("
            'cachewatch_http_request_duration_seconds_bucket{cache="hit",demo="true"}[5m])))',
            at,
        )
        assert 0.001 < float(p95[0]["value"][1]) < 0.05
        endpoints = prom.query(
            'count by (endpoint) (cachewatch_cache_ttl_seconds{instance="demo"})', at
        )
        assert {e["metric"]["endpoint"] for e in endpoints} == {
            "areas",
            "property_types",
            "valuation",
        }
    finally:
        prom.cleanup()
