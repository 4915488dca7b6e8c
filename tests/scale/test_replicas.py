"""Three service replicas sharing one Redis, scraped by one real Prometheus.

The recording rules and the ServiceDown alert come from monitoring/rules/*.yml
(CACHEWATCH_RULES_DIR overrides the folder). When that folder has no rules yet,
the test loads `FALLBACK_RULES`: the same names, with the expressions that
docs/metrics.md defines for them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.scale.conftest import valuation_path, valuation_queries
from tests.support.procs import REPO, PrometheusServer, RedisServer, ServiceProcess, wait_until

pytestmark = pytest.mark.slow

RULES_DIR = Path(os.environ.get("CACHEWATCH_RULES_DIR", REPO / "monitoring" / "rules"))
RATIO = "job:cachewatch_cache_hit_ratio:ratio_rate5m"

FALLBACK_RULES = """
groups:
  - name: scale-test-fallback
    rules:
      - record: job:cachewatch_cache_hit_ratio:ratio_rate5m
        expr: |
          sum by (job) (rate(cachewatch_cache_hits_total[5m]))
          / (
            sum by (job) (rate(cachewatch_cache_hits_total[5m]))
            + sum by (job) (rate(cachewatch_cache_misses_total[5m]))
          )
      - alert: ServiceDown
        expr: up{job="cachewatch"} == 0 or absent(up{job="cachewatch"})
        for: 2m
"""


def _rule_files(tmp: Path) -> list[str]:
    files = sorted(str(p) for p in RULES_DIR.glob("*.yml"))
    if files:
        return files
    fallback = tmp / "fallback-rules.yml"
    fallback.write_text(FALLBACK_RULES)
    return [str(fallback)]


@pytest.fixture
def replicas() -> Iterator[list[ServiceProcess]]:
    with RedisServer() as redis_server:
        assert isinstance(redis_server, RedisServer)
        env = {"CACHE_XFETCH_BETA": "0"}
        services = [ServiceProcess(redis_server.url, env=env) for _ in range(3)]
        threads = [threading.Thread(target=s.start) for s in services]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            assert all(s.proc is not None for s in services), "a replica did not start"
            yield services
        finally:
            for s in services:
                s.cleanup()


@pytest.fixture
def prometheus(replicas: list[ServiceProcess], tmp_path: Path) -> Iterator[PrometheusServer]:
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"targets": [s.url.removeprefix("http://") for s in replicas]}]))
    every = "500ms"
    config = {
        "global": {"scrape_interval": every, "scrape_timeout": every, "evaluation_interval": every},
        "rule_files": _rule_files(tmp_path),
        "scrape_configs": [
            {
                "job_name": "cachewatch",
                "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "1s"}],
            }
        ],
    }
    with PrometheusServer(json.dumps(config), config_dir=tmp_path) as server:
        yield server  # type: ignore[misc]


def _value(prom: PrometheusServer, expr: str) -> float | None:
    result = prom.query(expr)
    return float(result[0]["value"][1]) if result else None


def _send(service: ServiceProcess, paths: list[str], tally: dict[str, int]) -> None:
    for path in paths:
        response = requests.get(service.url + path, timeout=10)
        assert response.status_code == 200
        tally[response.headers["X-Cache"]] = tally.get(response.headers["X-Cache"], 0) + 1


def test_hit_ratio_over_three_replicas_and_one_lost(
    replicas: list[ServiceProcess], prometheus: PrometheusServer
) -> None:
    a, b, c = replicas
    hits = 'sum(cachewatch_cache_hits_total{job="cachewatch"})'
    misses = 'sum(cachewatch_cache_misses_total{job="cachewatch"})'
    seen = 'count(count_over_time(up{job="cachewatch"}[1m]) >= 2 and up == 1)'
    wait_until(
        lambda: _value(prometheus, seen) == 3 and _value(prometheus, hits) == 0,
        30,
        "Prometheus to see every replica's counters at zero",
    )

    tally: dict[str, int] = {}
    _send(a, ["/api/areas/buy", "/api/property-types/buy"], tally)
    areas = [x["area"] for x in requests.get(a.url + "/api/areas/buy", timeout=10).json()["areas"]]
    types = [
        x["property_type"]
        for x in requests.get(a.url + "/api/property-types/buy", timeout=10).json()[
            "property_types"
        ]
    ]
    tally["HIT"] = tally.get("HIT", 0) + 2  # the two requests just made were hits
    shared = [valuation_path(q) for q in valuation_queries(areas, types, 20)]
    own = [valuation_path(q) for q in valuation_queries(areas, types, 30)[20:]]
    _send(a, shared + shared, tally)  # 20 misses, then 20 hits
    _send(b, shared * 3, tally)  # 60 hits: the entries a stored, in the shared Redis
    _send(c, own, tally)  # 10 misses
    expected = tally["HIT"] / (tally["HIT"] + tally["MISS"])
    assert tally == {"MISS": 32, "HIT": 82}

    wait_until(
        lambda: (
            _value(prometheus, hits) == tally["HIT"] and _value(prometheus, misses) == tally["MISS"]
        ),
        30,
        "Prometheus to scrape every request",
    )
    # rate() extrapolates each replica's series to the window's end by up to one
    # scrape interval, which weighs the replicas by up to a few percent
    wait_until(
        lambda: abs((_value(prometheus, RATIO) or -1) - expected) < 0.02,
        30,
        f"{RATIO} to reach the traffic's {expected:.3f}",
    )
    per_replica_mean = (22 / 44 + 60 / 60 + 0 / 10) / 3
    assert abs(per_replica_mean - expected) > 0.1  # the check above tells sum/sum from a mean

    c.kill()
    lost = c.url.removeprefix("http://")
    down = 'up{job="cachewatch"} == 0 or absent(up{job="cachewatch"})'
    wait_until(
        lambda: [r["metric"]["instance"] for r in prometheus.query(down)] == [lost],
        30,
        "the ServiceDown expression to name the lost replica",
    )
    wait_until(
        lambda: (
            [
                (r["metric"].get("instance"), r["metric"]["alertstate"])
                for r in prometheus.query('ALERTS{alertname="ServiceDown"}')
            ]
            in ([(lost, "pending")], [(lost, "firing")])
        ),
        30,
        "ServiceDown to be pending for the lost replica",
    )
