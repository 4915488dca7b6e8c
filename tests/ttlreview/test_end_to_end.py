"""End to end: the real service samples its traffic into Redis; the review reads it back.

Short TTLs (seconds) make every class of miss happen within a bounded run; the
model's prediction at the deployed TTL must match what the live cache did.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

import loadgen
from service.keys import EVENTS_STREAM
from tests.support.procs import RedisServer, ServiceProcess, wait_until
from ttlreview.review import run


def _count(server: RedisServer) -> int:
    return int(redis.Redis.from_url(server.url).xlen(EVENTS_STREAM))


@pytest.mark.slow
def test_ttl_review_predicts_the_live_hit_ratio_at_the_deployed_ttl(tmp_path: Path) -> None:
    env = {
        "CACHE_SAMPLE_RATE": "1",
        "CACHE_TTL_VALUATION": "4",
        "CACHE_TTL_AREAS": "3",
        "CACHE_TTL_PROPERTY_TYPES": "3",
        "CACHE_XFETCH_BETA": "0",
        "REDIS_SOCKET_TIMEOUT": "1",
    }
    with RedisServer() as redis_server, ServiceProcess(redis_server.url, env=env) as service:
        summary = loadgen.run(service.url, rate=60, duration=20, concurrency=4, seed=3, queries=60)
        assert summary.requests > 600
        wait_until(lambda: _count(redis_server) >= summary.requests - 2, 10, "every event flushed")
        review = run(tmp_path / "review", redis_url=redis_server.url, days=1)
    reality = review.reality.set_index("endpoint")
    for endpoint in ("areas", "property_types", "valuation"):
        row = reality.loc[endpoint]
        assert row["requests"] > 50, endpoint
        assert abs(row["predicted_hit_ratio"] - row["live_hit_ratio"]) <= 0.02, row.to_dict()
    assert (tmp_path / "review" / "ttl_curve.csv").exists()
