"""service.redis_client: the topology is chosen by env vars; short timeouts, no retries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry

from service import redis_client
from service.config import ConfigError, Settings
from tests.scale.conftest import sample
from tests.scale.topologies import RedisClusterServers, SentinelServers
from tests.support.procs import RedisServer


def _settings(**env: str) -> Settings:
    return Settings.from_env(
        {"REDIS_SOCKET_TIMEOUT": "0.05", "REDIS_CONNECT_TIMEOUT": "0.1", **env}
    )


@pytest.mark.parametrize(
    ("env", "kind"),
    [
        ({}, "single"),
        ({"REDIS_URL": "redis://10.0.0.5:6380/2"}, "single"),
        ({"REDIS_CLUSTER_NODES": "10.0.0.1:7000,10.0.0.2:7000"}, "cluster"),
        ({"REDIS_SENTINELS": "10.0.0.1:26379", "REDIS_SENTINEL_MASTER": "cw"}, "sentinel"),
        ({"REDIS_CLUSTER_NODES": "10.0.0.1:7000", "REDIS_URL": "redis://x:1/0"}, "cluster"),
    ],
)
def test_the_topology_is_chosen_by_env_vars(env: dict[str, str], kind: str) -> None:
    assert redis_client.kind_of(_settings(**env)) == kind
    assert redis_client.connect(_settings(**env)).kind == kind  # nothing connects yet


def test_cluster_and_sentinel_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="not both"):
        redis_client.connect(_settings(REDIS_CLUSTER_NODES="a:1", REDIS_SENTINELS="b:2"))


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:7001", ("127.0.0.1", 7001)),
        ("redis-1", ("redis-1", 6379)),
        ("[::1]:7", ("::1", 7)),
    ],
)
def test_addresses(text: str, address: tuple[str, int]) -> None:
    assert redis_client.parse_address(text) == address


def test_a_bad_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        redis_client.parse_address("host:port")


def test_single_server_keeps_its_database_and_one_node() -> None:
    topology = redis_client.connect(_settings(REDIS_URL="redis://127.0.0.1:6390/3"))
    assert topology.db == 3
    assert [name for name, _ in topology.nodes()] == ["127.0.0.1:6390"]
    assert not topology.primaries_only


def test_cluster_client_has_short_timeouts_and_no_retries(cluster: RedisClusterServers) -> None:
    topology = redis_client.connect(_settings(REDIS_CLUSTER_NODES=cluster.nodes_env))
    inner = topology.client.cluster
    assert inner.retry.get_retries() == 0
    for node in inner.get_nodes():
        kwargs = node.redis_connection.connection_pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.05, 0.1)
        assert node.redis_connection.get_retry().get_retries() == 0
    assert len({name for name, _ in topology.nodes()}) == 6
    assert topology.primaries_only and topology.db == 0


def test_sentinel_client_has_short_timeouts_and_no_retries(sentinels: SentinelServers) -> None:
    settings = _settings(REDIS_SENTINELS=sentinels.sentinels_env, REDIS_URL="redis://unused/0")
    topology = redis_client.connect(settings)
    topology.client.set("probe", b"1")
    assert sentinels.primary.cli("GET", "probe") == "1"
    connection = topology.client.connection_pool.get_connection()
    try:
        assert (connection.socket_timeout, connection.socket_connect_timeout) == (0.05, 0.1)
        assert connection.retry.get_retries() == 0
    finally:
        topology.client.connection_pool.release(connection)
    names = {name for name, _ in topology.nodes()}
    assert names == {f"127.0.0.1:{s.port}" for s in sentinels.data_servers}


def test_replicas_report_up_but_no_figures(
    make_app: Callable[..., tuple[Flask, CollectorRegistry]], sentinels: SentinelServers
) -> None:
    app, _ = make_app(REDIS_SENTINELS=sentinels.sentinels_env)
    client = app.test_client()
    client.get("/api/areas/buy")
    registry = CollectorRegistry()
    registry.register(app.extensions["cachewatch.redis_info"])
    primary, replica = (f"127.0.0.1:{s.port}" for s in sentinels.data_servers)
    assert sample(registry, "cachewatch_redis_up", node=primary) == 1
    assert sample(registry, "cachewatch_redis_up", node=replica) == 1
    assert sample(registry, "cachewatch_redis_keys", node=primary) == 1
    assert sample(registry, "cachewatch_redis_memory_used_bytes", node=replica) == 0
    assert sample(registry, "cachewatch_redis_keys") == 1


def test_single_server_down_reports_up_zero(
    make_app: Callable[..., tuple[Flask, CollectorRegistry]],
) -> None:
    server = RedisServer().start()
    url, name = server.url, f"127.0.0.1:{server.port}"  # type: ignore[attr-defined]
    server.cleanup()
    app, _ = make_app(REDIS_URL=url)
    registry = CollectorRegistry()
    registry.register(app.extensions["cachewatch.redis_info"])
    assert sample(registry, "cachewatch_redis_up", node=name) == 0
    assert app.test_client().get("/api/areas/buy").headers["X-Cache"] == "BYPASS"
