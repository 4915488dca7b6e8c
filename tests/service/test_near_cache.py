"""The near cache against a real redis-server: two app instances, expiry, flushes, drops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from flask import Flask
from prometheus_client import CollectorRegistry

from service import envelope, near_cache
from service.app import create_app
from service.config import Settings
from service.envelope import Entry
from service.keys import cache_key
from service.near_cache import NearCache
from service.tracking import Address
from tests.service.conftest import TOKEN, sample
from tests.support.procs import RedisServer, wait_until

AREAS = "/api/areas/buy"
AREAS_KEY = cache_key("areas", {"listing_type": "buy"}).key
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _near(app: Flask) -> NearCache:
    near: NearCache | None = app.extensions["cachewatch.cache"].near
    assert near is not None
    return near


def _ready(app: Flask) -> Flask:
    """Start the app's tracking connection and wait until Redis acknowledged it."""
    near = _near(app)
    near.start()
    wait_until(lambda: near.listener.connected, 5, "the tracking connection")
    return app


def _local_hits(registry: CollectorRegistry) -> float:
    return sample(registry, "cachewatch_cache_hits_total", endpoint="areas", tier="local")


def _warm_near(app: Flask) -> None:
    """Fetch AREAS until this app holds it in its near cache.

    Invalidations of the writes made so far are applied first: one arriving
    after the GET would (rightly) drop the entry just stored.
    """
    near = _near(app)
    wait_until(lambda: not near.listener.pending(), 5, "the invalidations to be applied")
    client = app.test_client()
    wait_until(
        lambda: client.get(AREAS).headers["X-Cache"] == "HIT" and AREAS_KEY in _near(app),
        5,
        "the entry to reach the near cache",
    )


@pytest.fixture
def two_apps(settings: Settings) -> tuple[Flask, Flask, CollectorRegistry]:
    """Two instances of the service (as two workers would be) on one Redis; B's registry."""
    registry_b = CollectorRegistry()
    a = _ready(create_app(settings, registry=CollectorRegistry()))
    b = _ready(create_app(settings, registry=registry_b))
    return a, b, registry_b


def test_near_cache_is_on_by_default(settings: Settings) -> None:
    assert settings.near_cache_size > 0
    app = create_app(settings.replace(near_cache_size=0), registry=CollectorRegistry())
    assert app.extensions["cachewatch.cache"].near is None


def test_hot_entries_are_local_hits_with_the_same_body(
    two_apps: tuple[Flask, Flask, CollectorRegistry],
) -> None:
    a, b, registry_b = two_apps
    first = a.test_client().get(AREAS)
    assert first.headers["X-Cache"] == "MISS"
    _warm_near(b)
    before = _local_hits(registry_b)
    again = b.test_client().get(AREAS)
    assert (again.headers["X-Cache"], again.data) == ("HIT", first.data)
    assert _local_hits(registry_b) == before + 1
    redis_hits = sample(registry_b, "cachewatch_cache_hits_total", tier="redis")
    assert redis_hits >= 1
    lookups = sample(registry_b, "cachewatch_cache_hits_total") + sample(
        registry_b, "cachewatch_cache_misses_total"
    )
    assert lookups == sample(registry_b, "cachewatch_http_request_duration_seconds_count")


def test_an_admin_delete_on_one_instance_reaches_the_other_at_once(
    two_apps: tuple[Flask, Flask, CollectorRegistry],
) -> None:
    a, b, registry_b = two_apps
    a.test_client().get(AREAS)
    _warm_near(b)
    deleted = a.test_client().delete("/api/admin/cache/areas", headers=ADMIN)
    assert deleted.get_json()["deleted"] >= 1
    before = _local_hits(registry_b)
    assert b.test_client().get(AREAS).headers["X-Cache"] == "MISS"
    assert _local_hits(registry_b) == before


def test_a_rewrite_by_another_instance_is_served_not_the_old_value(
    two_apps: tuple[Flask, Flask, CollectorRegistry], redis_server: RedisServer
) -> None:
    a, b, _ = two_apps
    a.test_client().get(AREAS)
    _warm_near(b)
    newer = envelope.pack(b'{"refreshed": true}', time.time(), 3600, 0.5)
    redis.Redis.from_url(redis_server.url).set(AREAS_KEY, newer)  # as another worker's refresh
    response = b.test_client().get(AREAS)
    assert response.headers["X-Cache"] == "HIT"
    assert response.get_json() == {"refreshed": True}


def test_the_logical_ttl_still_applies_to_near_entries(
    settings: Settings, redis_server: RedisServer
) -> None:
    registry = CollectorRegistry()
    app = _ready(create_app(settings, registry=registry))
    ends = time.time() + 1.0  # a second of logical life left
    entry = envelope.pack(b'{"short": true}', ends - 3600, 3600, 0.1)
    redis.Redis.from_url(redis_server.url).set(AREAS_KEY, entry, ex=7200)
    _warm_near(app)
    wait_until(lambda: time.time() > ends, 5, "the logical TTL to run out")
    assert AREAS_KEY in _near(app)  # still held: Redis did not change it
    response = app.test_client().get(AREAS)
    assert response.headers["X-Cache"] == "MISS"
    assert sample(registry, "cachewatch_cache_misses_total", reason="expired") == 1


def test_a_key_expired_by_redis_leaves_the_near_cache(
    settings: Settings, redis_server: RedisServer
) -> None:
    app = _ready(create_app(settings, registry=CollectorRegistry()))
    entry = envelope.pack(b'{"soon": "gone"}', time.time(), 3600, 0.1)
    redis.Redis.from_url(redis_server.url).set(AREAS_KEY, entry, px=400)
    _warm_near(app)
    wait_until(lambda: AREAS_KEY not in _near(app), 5, "Redis to expire the key")
    assert app.test_client().get(AREAS).headers["X-Cache"] == "MISS"


def test_flushall_flushes_the_near_cache(two_apps: tuple[Flask, Flask, CollectorRegistry]) -> None:
    a, b, _ = two_apps
    a.test_client().get(AREAS)
    _warm_near(b)
    redis.Redis.from_url(a.config["CACHEWATCH_SETTINGS"].redis_url).flushall()
    assert b.test_client().get(AREAS).headers["X-Cache"] == "MISS"


def test_a_dropped_tracking_connection_flushes_then_comes_back(
    settings: Settings, redis_server: RedisServer
) -> None:
    app = _ready(create_app(settings, registry=CollectorRegistry()))
    client = app.test_client()
    client.get(AREAS)
    _warm_near(app)
    near = _near(app)
    redis_server.cli("CLIENT", "KILL", "ID", str(_tracking_client_id(redis_server)))
    # Written while nobody listens: no invalidation will ever announce it.
    newer = envelope.pack(b'{"written": "unannounced"}', time.time(), 3600, 0.5)
    redis.Redis.from_url(redis_server.url).set(AREAS_KEY, newer)
    assert client.get(AREAS).get_json() == {"written": "unannounced"}
    wait_until(lambda: near.listener.drops == 1, 5, "the drop to be noticed")
    wait_until(lambda: near.listener.connected, 5, "the tracking connection to come back")
    _warm_near(app)
    assert near.get(AREAS_KEY) is not None


def test_redis_down_flushes_and_bypasses_instead_of_serving_local_entries(
    settings: Settings, redis_server: RedisServer
) -> None:
    registry = CollectorRegistry()
    app = _ready(create_app(settings, registry=registry))
    client = app.test_client()
    client.get(AREAS)
    _warm_near(app)
    redis_server.kill()
    near = _near(app)
    wait_until(lambda: not near.listener.connected and len(near) == 0, 5, "the flush")
    before = _local_hits(registry)
    assert client.get(AREAS).headers["X-Cache"] == "BYPASS"
    assert _local_hits(registry) == before


def _tracking_client_id(server: RedisServer) -> int:
    """The id of the one client that has tracking on (flags contain `t`)."""
    for line in server.cli("CLIENT", "LIST").splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if "t" in fields.get("flags", ""):
            return int(fields["id"])
    raise AssertionError("no tracking client")


# -- the race between a GET and an invalidation, without Redis ---------------------------


def _offline(size: int = 4) -> NearCache:
    near = NearCache(size, Address(port=1), ["p:"])
    near.listener.connected = True
    near._started = near_cache._forks  # as if started, without a thread
    return near


ENTRY = Entry(time.time(), 60, 0.1, b"{}")


@pytest.mark.parametrize(
    "between",
    [
        lambda near: near.invalidate([b"p:k"]),
        lambda near: near.flush(),
    ],
    ids=["invalidate", "flush"],
)
def test_an_invalidation_during_the_get_keeps_the_value_out(
    between: Callable[[NearCache], None],
) -> None:
    near = _offline()
    token = near.begin("p:k")
    between(near)
    assert near.put("p:k", token, ENTRY) is False
    assert "p:k" not in near


def test_least_recently_used_entries_go_first() -> None:
    near = _offline(size=2)
    near.listener.pending = lambda: False  # type: ignore[method-assign]
    for key in ("p:a", "p:b"):
        assert near.put(key, near.begin(key), ENTRY)
    assert near.get("p:a") is ENTRY  # a is now the most recent
    assert near.put("p:c", near.begin("p:c"), ENTRY)
    assert ("p:a" in near, "p:b" in near, "p:c" in near) == (True, False, True)


def test_nothing_is_stored_or_served_while_tracking_is_down() -> None:
    near = _offline()
    near.listener.connected = False
    assert near.begin("p:k") is None
    assert near.put("p:k", None, ENTRY) is False
    assert near.get("p:k") is None


def test_many_threads_can_read_at_once(settings: Settings) -> None:
    """gthread workers: every request thread checks the tracking socket concurrently."""
    app = _ready(create_app(settings, registry=CollectorRegistry()))
    app.test_client().get(AREAS)
    _warm_near(app)
    near = _near(app)
    barrier = threading.Barrier(8)

    def read(_: int) -> int:
        barrier.wait()
        return sum(near.get(AREAS_KEY) is not None for _ in range(3000))

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(read, range(8)))
    assert sum(found) > 0
