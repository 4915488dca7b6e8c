"""The cache layer against a real Redis: reasons, staleness, faults, stampedes, early refresh."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from service import envelope
from service.app import create_app
from service.config import Settings
from service.keys import cache_key
from tests.service.conftest import sample
from tests.support.procs import RedisServer

AREAS_BUY = cache_key("areas", {"listing_type": "buy"}).key


def _r(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def test_entries_outlive_their_ttl_by_the_grace_period(
    client: FlaskClient, redis_server: RedisServer
) -> None:
    client.get("/api/areas/buy")
    ttl = _r(redis_server).ttl(AREAS_BUY)
    assert 3600 + 3600 - 5 <= ttl <= 3600 + 3600


def test_an_expired_entry_is_an_expired_miss_not_a_cold_one(
    client: FlaskClient, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    _r(redis_server).set(AREAS_BUY, envelope.pack(b'{"old": true}', time.time() - 4000, 3600, 0.1))
    response = client.get("/api/areas/buy")
    assert response.headers["X-Cache"] == "MISS"
    assert "areas" in response.get_json()
    assert (
        sample(registry, "cachewatch_cache_misses_total", endpoint="areas", reason="expired") == 1
    )
    assert sample(registry, "cachewatch_cache_misses_total", endpoint="areas", reason="cold") == 0
    assert client.get("/api/areas/buy").headers["X-Cache"] == "HIT"


def test_hit_age_is_observed(
    client: FlaskClient, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    _r(redis_server).set(AREAS_BUY, envelope.pack(b'{"areas": []}', time.time() - 100, 3600, 0.1))
    response = client.get("/api/areas/buy")
    assert response.headers["X-Cache"] == "HIT"
    assert int(response.headers["Age"]) >= 100
    assert sample(registry, "cachewatch_cache_hit_age_seconds_sum", endpoint="areas") >= 100


def test_corrupt_and_foreign_values_are_counted_and_repaired(
    client: FlaskClient, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    r = _r(redis_server)
    r.set(AREAS_BUY, b"not an entry")
    assert client.get("/api/areas/buy").status_code == 200
    assert sample(registry, "cachewatch_cache_errors_total", operation="deserialize") == 1
    assert client.get("/api/areas/buy").headers["X-Cache"] == "HIT"
    r.delete(AREAS_BUY)
    r.hset(AREAS_BUY, "field", "value")
    assert client.get("/api/areas/buy").status_code == 200
    assert sample(registry, "cachewatch_cache_errors_total", operation="get") == 1
    assert client.get("/api/areas/buy").headers["X-Cache"] == "HIT"


def test_disabled_cache_bypasses_and_touches_no_key(
    settings: Settings, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    app = create_app(settings.replace(redis_enabled=False), registry=registry)
    response = app.test_client().get("/api/areas/buy")
    assert (response.status_code, response.headers["X-Cache"]) == (200, "BYPASS")
    assert (
        sample(registry, "cachewatch_cache_bypass_total", endpoint="areas", reason="disabled") == 1
    )
    assert sample(registry, "cachewatch_cache_enabled") == 0
    assert _r(redis_server).dbsize() == 0


def test_redis_down_costs_the_cache_only_then_the_breaker_opens_and_recovers(
    settings: Settings, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    app = create_app(settings.replace(breaker_reset_seconds=0.5), registry=registry)
    client = app.test_client()
    assert client.get("/api/areas/buy").headers["X-Cache"] == "MISS"
    redis_server.kill()
    results = [client.get("/api/areas/buy") for _ in range(6)]
    assert all(r.status_code == 200 and r.headers["X-Cache"] == "BYPASS" for r in results)
    assert sample(registry, "cachewatch_cache_bypass_total", reason="redis_error") == 3
    assert sample(registry, "cachewatch_cache_bypass_total", reason="circuit_open") == 3
    assert sample(registry, "cachewatch_cache_circuit_open") == 1
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "degraded" and not ready["redis"]["ok"]

    redis_server.start()  # same port, empty
    deadline = time.monotonic() + 10
    seen = []
    while time.monotonic() < deadline:
        seen.append(client.get("/api/areas/buy").headers["X-Cache"])
        if seen[-1] == "HIT":
            break
        time.sleep(0.1)
    assert seen[-1] == "HIT", seen
    assert sample(registry, "cachewatch_cache_circuit_open") == 0


def test_database_failure_serves_a_stale_entry_else_a_503(
    client: FlaskClient, app: Flask, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    stale = envelope.pack(b'{"stale": true}', time.time() - 4000, 3600, 0.1)
    _r(redis_server).set(AREAS_BUY, stale)
    with app.extensions["cachewatch.engine"].begin() as conn:
        conn.execute(sa.text("ALTER TABLE listings RENAME TO listings_gone"))
    response = client.get("/api/areas/buy")
    assert response.status_code == 200
    assert response.get_json() == {"stale": True}
    assert response.headers["X-Cache-Stale"] == "1"
    assert sample(registry, "cachewatch_cache_stale_served_total", endpoint="areas") == 1
    cold = client.get("/api/areas/rent")
    assert cold.status_code == 503
    assert "database" in cold.get_json()["error"]["message"]
    assert _r(redis_server).exists(cache_key("areas", {"listing_type": "rent"}).key) == 0


def test_concurrent_cold_requests_compute_once(app: Flask, registry: CollectorRegistry) -> None:
    n = 12
    barrier = threading.Barrier(n)

    def fetch(_: int) -> tuple[int, bytes]:
        client = app.test_client()
        barrier.wait()
        response = client.get("/api/areas/buy")
        return response.status_code, response.data

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(fetch, range(n)))
    assert {status for status, _ in results} == {200}
    assert len({body for _, body in results}) == 1
    assert sample(registry, "cachewatch_backend_duration_seconds_count", endpoint="areas") == 1
    lookups = sample(registry, "cachewatch_cache_hits_total") + sample(
        registry, "cachewatch_cache_misses_total"
    )
    assert lookups == n


def test_hot_entry_near_expiry_is_refreshed_early(
    settings: Settings, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    app = create_app(settings.replace(xfetch_beta=1.0), registry=registry)
    old = time.time() - 3599.5  # half a second of logical life left; computing "took" 10 minutes
    _r(redis_server).set(AREAS_BUY, envelope.pack(b'{"areas": []}', old, 3600, 600.0))
    response = app.test_client().get("/api/areas/buy")
    assert response.headers["X-Cache"] == "HIT"
    deadline = time.monotonic() + 10
    while sample(registry, "cachewatch_cache_refreshes_total", endpoint="areas") < 1:
        assert time.monotonic() < deadline, "no early refresh"
        time.sleep(0.02)
    entry = envelope.unpack(_r(redis_server).get(AREAS_BUY) or b"")
    assert entry.created > old + 3000
    assert b"northfield" in entry.body


def test_uncacheable_value_is_served_and_counted(app: Flask, registry: CollectorRegistry) -> None:
    import decimal

    cache = app.extensions["cachewatch.cache"]
    with app.test_request_context():
        response = cache.serve(
            "areas", {"listing_type": "buy"}, lambda listing_type: {"x": decimal.Decimal("1.5")}
        )
    assert response.status_code == 200
    assert sample(registry, "cachewatch_cache_errors_total", operation="serialize") == 1
