"""Key-sampled access events: what reaches the stream, and the TTL review reading it end to end."""

from __future__ import annotations

import redis
from flask import Flask
from prometheus_client import CollectorRegistry

from service.app import create_app
from service.config import Settings
from service.keys import EVENTS_STREAM, cache_key
from service.sampling import is_sampled
from tests.service.conftest import sample
from tests.support.procs import RedisServer


def _events(server: RedisServer) -> list[dict[str, str]]:
    client = redis.Redis.from_url(server.url, decode_responses=True)
    return [fields for _, fields in client.xrange(EVENTS_STREAM)]


def _app(settings: Settings, registry: CollectorRegistry, **rates: float) -> Flask:
    full = {"areas": 0.0, "property_types": 0.0, "valuation": 0.0, **rates}
    return create_app(settings.replace(sample_rates=full), registry=registry)


def test_default_rates_sample_the_list_endpoints_whole() -> None:
    assert Settings.from_env({}).sample_rates == {
        "areas": 1.0,
        "property_types": 1.0,
        "valuation": 0.1,
    }
    off = Settings.from_env({"CACHE_SAMPLE_RATE": "0"}).sample_rates
    assert set(off.values()) == {0.0}


def test_requests_of_a_sampled_key_reach_the_stream_with_their_result(
    settings: Settings, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    app = _app(settings, registry, areas=1.0)
    client = app.test_client()
    client.get("/api/areas/buy")
    client.get("/api/areas/buy")
    client.get("/api/property-types/buy")  # rate 0: not sampled
    assert app.extensions["cachewatch.cache"].sampler.flush() == 2
    events = _events(redis_server)
    assert [(e["event"], e["result"], e["reason"]) for e in events] == [
        ("request", "miss", "cold"),
        ("request", "hit", ""),
    ]
    digest = cache_key("areas", {"listing_type": "buy"}).digest
    assert {e["key"] for e in events} == {digest}
    assert {(e["endpoint"], e["ttl"], e["rate"]) for e in events} == {("areas", "3600", "1.0")}
    assert int(events[1]["size"]) > 1000


def test_only_keys_below_the_rate_are_kept_and_all_their_requests(
    settings: Settings, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    app = _app(settings, registry, valuation=0.5)
    client = app.test_client()
    sizes = range(40, 100)
    for _ in range(2):
        for size in sizes:
            client.get(
                f"/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm={size}"
            )
    app.extensions["cachewatch.cache"].sampler.flush()
    keys = [e["key"] for e in _events(redis_server)]
    digests = [
        cache_key("valuation", {"p": {"area": "northfield", "property_type": "flat", "bedrooms": 2,
                                      "size_sqm": size, "listing_type": "buy"}}).digest
        for size in sizes
    ]  # fmt: skip
    expected = [d for d in digests if is_sampled("valuation", d, 0.5)]
    assert 15 < len(expected) < 45  # about half of 60
    assert sorted(set(keys)) == sorted(expected)
    assert len(keys) == 2 * len(expected)


def test_invalidations_are_recorded_and_redis_down_costs_only_the_events(
    settings: Settings, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    app = _app(settings, registry, areas=1.0)
    client = app.test_client()
    client.delete(
        "/api/admin/cache/areas", headers={"Authorization": f"Bearer {settings.admin_token}"}
    )
    sampler = app.extensions["cachewatch.cache"].sampler
    sampler.flush()
    assert [(e["event"], e["key"]) for e in _events(redis_server)] == [("invalidate", "*")]
    redis_server.kill()
    assert client.get("/api/areas/buy").status_code == 200
    assert sampler.flush() == 0
    assert sample(registry, "cachewatch_cache_errors_total", operation="sample") == 1
