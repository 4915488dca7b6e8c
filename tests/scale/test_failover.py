"""Failovers under load, with the real service under gunicorn: Cluster and Sentinel."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from service.keys import cache_key
from tests.scale.conftest import valuation_path, valuation_queries
from tests.scale.topologies import RedisClusterServers, SentinelServers, Traffic, info, role
from tests.support.procs import ServiceProcess, wait_until

pytestmark = pytest.mark.slow


def _service(env: dict[str, str]) -> ServiceProcess:
    return ServiceProcess(
        "redis://127.0.0.1:1/0", env={"CACHE_XFETCH_BETA": "0", "CACHE_SAMPLE_RATE": "0", **env}
    )


def _queries(service: ServiceProcess, count: int, skip: int = 0) -> list[dict[str, Any]]:
    get = lambda path: requests.get(service.url + path, timeout=10).json()  # noqa: E731
    areas = [a["area"] for a in get("/api/areas/buy")["areas"]]
    types = [t["property_type"] for t in get("/api/property-types/buy")["property_types"]]
    return valuation_queries(areas, types, skip + count)[skip:]


def _key(params: dict[str, Any]) -> str:
    return cache_key("valuation", {"p": params}).key


def _until_hit(url: str) -> bool:
    return requests.get(url, timeout=10).headers.get("X-Cache") == "HIT"


@pytest.fixture
def traffic() -> Iterator[list[Traffic]]:
    started: list[Traffic] = []
    yield started
    for t in started:
        t.stop()


def test_cluster_primary_killed_under_load(
    own_cluster: RedisClusterServers, traffic: list[Traffic]
) -> None:
    cluster = own_cluster
    with _service({"REDIS_CLUSTER_NODES": cluster.nodes_env}) as service:
        assert isinstance(service, ServiceProcess)
        queries = _queries(service, 45)
        urls = [service.url + valuation_path(q) for q in queries]
        for url in urls:
            requests.get(url, timeout=10)
        keys = {_key(q): url for q, url in zip(queries, urls, strict=True)}
        held = {
            p.port: cluster.keys_on(p, "cachewatch:v1:valuation:*") for p in cluster.primaries()
        }
        assert set().union(*held.values()) == set(keys)
        victim = next(p for p in cluster.primaries() if held[p.port])
        heir = cluster.replica_of(victim)
        victim_urls = {keys[k] for k in held[victim.port]}

        load = Traffic(urls)
        traffic.append(load)
        load.start()
        wait_until(lambda: len(load.records) > 2 * len(urls), 30, "warm traffic")
        killed_at = time.monotonic()
        victim.kill()
        wait_until(
            lambda: role(heir) == "master" and cluster.healthy(), 30, "the replica's promotion"
        )
        promoted_at = time.monotonic()
        wait_until(
            lambda: victim_urls <= {r[1] for r in load.since(promoted_at) if r[3] == "HIT"},
            30,
            "hits on the failed primary's keys to resume",
        )
        wait_until(
            lambda: (
                service.metric("cachewatch_cache_circuit_open") == 0
                and {r[3] for r in load.records[-len(urls) :]} == {"HIT"}
            ),
            15,
            "every worker's breaker to close and a full round of hits",
        )
        records = load.stop()

        during = [r for r in records if killed_at <= r[0] < promoted_at]
        assert during, "no request was sent while the primary was down"
        assert {r[2] for r in records} == {200}, "a request failed during the failover"
        assert {r[3] for r in during} <= {"HIT", "MISS", "BYPASS"}
        victim_name = f"127.0.0.1:{victim.port}"
        wait_until(
            lambda: (
                service.metric("cachewatch_redis_up", node=victim_name) == 0
                and service.metric("cachewatch_redis_keys", node=f"127.0.0.1:{heir.port}") > 0
            ),
            10,
            "the metrics to show the dead node and the promoted one",
        )


def test_sentinel_failover_under_load(sentinels: SentinelServers, traffic: list[Traffic]) -> None:
    env = {"REDIS_SENTINELS": sentinels.sentinels_env, "REDIS_SENTINEL_MASTER": "mymaster"}
    with _service(env) as service:
        assert isinstance(service, ServiceProcess)
        queries = _queries(service, 30)
        urls = [service.url + valuation_path(q) for q in queries]
        for url in urls:
            requests.get(url, timeout=10)
        old = sentinels.primary
        assert old.cli("DBSIZE") == str(len(urls) + 2)

        load = Traffic(urls)
        traffic.append(load)
        load.start()
        wait_until(lambda: len(load.records) > 2 * len(urls), 30, "warm traffic")
        sentinels.sentinels[0].cli("SENTINEL", "FAILOVER", "mymaster")
        wait_until(
            lambda: (
                sentinels.primary_now() is not old
                and role(old) == "slave"
                and info(old).get("master_link_status") == "up"
            ),
            30,
            "the sentinels to promote the replica and demote the old primary",
        )
        switched_at = time.monotonic()
        new = sentinels.primary_now()
        # cold keys after the switch: a hit proves its entry was written, so on the new primary
        fresh = [service.url + valuation_path(q) for q in _queries(service, 10, skip=30)]
        for url in fresh:
            wait_until(functools.partial(_until_hit, url), 20, f"a hit on {url}")
        wait_until(
            lambda: {r[3] for r in load.since(switched_at)[-len(urls) :]} == {"HIT"},
            30,
            "a full round of hits",
        )
        records = load.stop()

        assert {r[2] for r in records} == {200}, "a request failed during the failover"
        assert role(new) == "master"
        assert int(new.cli("DBSIZE")) == len(urls) + len(fresh) + 2
        wait_until(
            lambda: (
                service.metric("cachewatch_redis_keys", node=f"127.0.0.1:{new.port}")
                == len(urls) + len(fresh) + 2
                and service.metric("cachewatch_redis_keys", node=f"127.0.0.1:{old.port}") == 0
                and service.metric("cachewatch_redis_up", node=f"127.0.0.1:{old.port}") == 1
            ),
            10,
            "the metrics to follow the new primary",
        )
