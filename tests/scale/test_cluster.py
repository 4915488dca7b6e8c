"""The cache layer on a real Redis Cluster (3 primaries, 3 replicas), in process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from service.keys import EVENTS_STREAM
from tests.scale.conftest import TOKEN, sample, valuation_path, valuation_queries
from tests.scale.topologies import RedisClusterServers, info
from tests.support.procs import free_port

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def clean(cluster: RedisClusterServers) -> Iterator[RedisClusterServers]:
    for primary in cluster.primaries():
        primary.cli("FLUSHALL")
    yield cluster


@pytest.fixture
def on_cluster(
    clean: RedisClusterServers, make_app: Callable[..., tuple[Flask, CollectorRegistry]]
) -> Callable[..., tuple[FlaskClient, CollectorRegistry]]:
    def make(**env: str) -> tuple[FlaskClient, CollectorRegistry]:
        app, registry = make_app(REDIS_CLUSTER_NODES=clean.nodes_env, **env)
        return app.test_client(), registry

    return make


def _catalog(client: FlaskClient) -> tuple[list[str], list[str]]:
    areas = [a["area"] for a in client.get("/api/areas/buy").get_json()["areas"]]
    types = [
        t["property_type"]
        for t in client.get("/api/property-types/buy").get_json()["property_types"]
    ]
    return areas, types


def _metrics(client: FlaskClient) -> dict[str, dict[str, float]]:
    """{metric name: {node: value}} for the per-node Redis figures."""
    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True)):
        for s in family.samples:
            if "node" in s.labels:
                out.setdefault(s.name, {})[s.labels["node"]] = s.value
    return out


def test_hits_and_misses_as_on_a_single_server(
    on_cluster: Callable[..., Any], clean: RedisClusterServers
) -> None:
    client, registry = on_cluster()
    first = [client.get("/api/areas/buy"), client.get("/api/property-types/rent")]
    areas, types = _catalog(client)
    paths = [valuation_path(q) for q in valuation_queries(areas, types, 24)]
    first += [client.get(p) for p in paths]
    second = [client.get("/api/areas/buy"), client.get("/api/property-types/rent")]
    second += [client.get(p) for p in paths]

    assert [r.status_code for r in first + second] == [200] * len(first + second)
    assert {r.headers["X-Cache"] for r in first[:2]} == {"MISS"}
    assert [r.headers["X-Cache"] for r in first[2:]] == ["MISS"] * len(paths)
    assert [r.headers["X-Cache"] for r in second] == ["HIT"] * len(second)
    assert [r.get_data() for r in second] == [r.get_data() for r in first]
    # _catalog's two requests: one hit (areas/buy) and one miss (property-types/buy)
    assert sample(registry, "cachewatch_cache_hits_total") == len(second) + 1
    assert sample(registry, "cachewatch_cache_misses_total") == len(first) + 1
    assert sample(registry, "cachewatch_cache_bypass_total") == 0
    # every miss took its lock and released it with the Lua script: no CROSSSLOT, no error
    assert sample(registry, "cachewatch_cache_errors_total") == 0
    locks = [k for p in clean.primaries() for k in clean.keys_on(p, "*:lock")]
    assert locks == []
    entries = {k for p in clean.primaries() for k in clean.keys_on(p)}
    assert len(entries) == len(paths) + 3
    assert client.get("/readyz").get_json()["redis"] == {
        "ok": True,
        "enabled": True,
        "circuit": "closed",
    }


def test_an_entry_and_its_lock_share_a_slot(
    on_cluster: Callable[..., Any], clean: RedisClusterServers
) -> None:
    client, _ = on_cluster()
    client.get("/api/areas/rent")
    (key,) = {k for p in clean.primaries() for k in clean.keys_on(p)}
    node = clean.primaries()[0]
    assert node.cli("CLUSTER", "KEYSLOT", key) == node.cli("CLUSTER", "KEYSLOT", f"{key}:lock")


def test_invalidation_scans_every_primary(
    on_cluster: Callable[..., Any], clean: RedisClusterServers
) -> None:
    client, _ = on_cluster()
    areas, types = _catalog(client)
    paths = [valuation_path(q) for q in valuation_queries(areas, types, 36)]
    for p in paths:
        assert client.get(p).status_code == 200
    pattern = "cachewatch:v1:valuation:*"
    per_primary = {p.port: clean.keys_on(p, pattern) for p in clean.primaries()}
    assert all(per_primary.values()), f"keys not spread over every primary: {per_primary}"

    response = client.delete("/api/admin/cache/valuation", headers=AUTH)

    assert response.status_code == 200
    assert response.get_json()["deleted"] == len(paths)
    assert [k for p in clean.primaries() for k in clean.keys_on(p, pattern)] == []
    others = {k for p in clean.primaries() for k in clean.keys_on(p)}
    assert len(others) == 2  # areas/buy and property_types/buy stay
    assert all(client.get(p).headers["X-Cache"] == "MISS" for p in paths[:3])


def test_admin_stats_count_keys_on_every_primary(on_cluster: Callable[..., Any]) -> None:
    client, _ = on_cluster()
    areas, types = _catalog(client)
    for q in valuation_queries(areas, types, 12):
        client.get(valuation_path(q))
    stats = client.get("/api/admin/cache/stats", headers=AUTH).get_json()
    assert stats["endpoints"]["valuation"]["keys"] == 12
    assert stats["endpoints"]["valuation"]["memory_bytes"] > 0


def test_events_stream_works(on_cluster: Callable[..., Any], clean: RedisClusterServers) -> None:
    client, _ = on_cluster(CACHE_SAMPLE_RATE="1")
    for _ in range(3):
        client.get("/api/areas/buy")
    client.delete("/api/admin/cache/areas", headers=AUTH)
    assert client.application.extensions["cachewatch.cache"].sampler.flush() == 4
    reader = redis.cluster.RedisCluster(host="127.0.0.1", port=clean.servers[0].port)
    try:
        events: Any = reader.xrange(EVENTS_STREAM)
    finally:
        reader.close()
    kinds = [(e[b"event"], e.get(b"result")) for _, e in events]
    assert kinds == [
        (b"request", b"miss"),
        (b"request", b"hit"),
        (b"request", b"hit"),
        (b"invalidate", b""),
    ]


def test_metrics_report_every_node_and_count_each_key_once(
    on_cluster: Callable[..., Any], clean: RedisClusterServers
) -> None:
    client, _ = on_cluster()
    areas, types = _catalog(client)
    for q in valuation_queries(areas, types, 30):
        client.get(valuation_path(q))
    figures = _metrics(client)

    every = {f"127.0.0.1:{s.port}" for s in clean.servers}
    primaries = {f"127.0.0.1:{s.port}": s for s in clean.primaries()}
    assert figures["cachewatch_redis_up"] == dict.fromkeys(every, 1.0)
    keys = figures["cachewatch_redis_keys"]
    assert set(keys) == set(primaries)
    assert keys == {name: float(s.cli("DBSIZE")) for name, s in primaries.items()}
    assert sum(keys.values()) == 32  # 30 valuations, areas/buy, property_types/buy
    assert set(figures["cachewatch_redis_memory_used_bytes"]) == set(primaries)
    assert all(info(s)["role"] == "master" for s in primaries.values())


def test_service_starts_and_serves_while_the_cluster_is_unreachable(
    make_app: Callable[..., tuple[Flask, CollectorRegistry]],
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    app, registry = make_app(REDIS_CLUSTER_NODES=dead)
    client = app.test_client()

    responses = [client.get("/api/areas/buy") for _ in range(5)]

    assert [r.status_code for r in responses] == [200] * 5
    assert {r.headers["X-Cache"] for r in responses} == {"BYPASS"}
    assert sample(registry, "cachewatch_cache_bypass_total", reason="redis_error") == 3
    assert sample(registry, "cachewatch_cache_bypass_total", reason="circuit_open") == 2
    assert client.get("/readyz").get_json()["status"] == "degraded"
    assert _metrics(client)["cachewatch_redis_up"] == {dead: 0.0}
