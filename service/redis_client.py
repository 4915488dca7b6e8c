"""The Redis client for the configured topology: one server, Redis Cluster or Sentinel.

    topology = connect(Settings.from_env())
    store = RedisStore(topology.client, breaker, metrics)
    RedisInfoCollector(topology.nodes, topology.db, primaries_only=topology.primaries_only)

Chosen by configuration alone, first match wins:

- `REDIS_CLUSTER_NODES=host:port,...`: `redis.cluster.RedisCluster` seeded with those nodes;
- `REDIS_SENTINELS=host:port,...` (+ `REDIS_SENTINEL_MASTER`): `Sentinel(...).master_for(...)`;
- otherwise `REDIS_URL`: one server (`store.make_client`).

Setting both REDIS_CLUSTER_NODES and REDIS_SENTINELS is a ConfigError.

Retries. Every topology keeps store.make_client's short timeouts and makes no
retry of its own: a failed call reaches the circuit breaker, which decides.
What follows a topology change is not a retry:

- Cluster: MOVED and ASK are redirects that redis-py follows inside one call
  (at most 16 hops), whatever the retry setting. When a node does not answer,
  redis-py reloads the slot map before raising, so the call after the one that
  failed goes to the promoted replica. CLUSTERDOWN (the moments when the cluster
  has no primary for a slot) is raised, as an unavailability.
- Sentinel: every new connection asks the sentinels for the current primary;
  a connection that meets READONLY (its server was demoted) or a reset (a
  sentinel's reconfiguration kills clients) is dropped, so the next call
  reconnects to the promoted replica. The sentinels themselves are asked in
  turn, each with the same timeouts and no retry.

A failover therefore costs a few requests their cache (counted as bypasses,
reason `redis_error`, or `circuit_open` while the breaker is open), never a
response.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

import redis
from redis import exceptions as rexc
from redis._parsers.encoders import Encoder
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.commands.core import Script
from redis.retry import Retry
from redis.sentinel import Sentinel

from service.config import ConfigError, Settings
from service.redis_info import node_name
from service.store import make_client

Nodes = Callable[[], list[tuple[str, Any]]]

SINGLE, CLUSTER, SENTINEL = "single", "cluster", "sentinel"


@dataclasses.dataclass(frozen=True)
class Topology:
    """What the app needs of a Redis topology."""

    kind: str
    client: Any
    db: int
    nodes: Nodes
    primaries_only: bool

    def describe(self) -> str:
        """`kind: node, node, ...` for logs."""
        return f"{self.kind}: {', '.join(name for name, _ in self.nodes())}"


def parse_address(text: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) as a pair; a missing port is 6379.

    >>> parse_address("127.0.0.1:7001")
    ('127.0.0.1', 7001)
    """
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        return text.strip(), 6379
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise ConfigError(f"not a host:port address: {text!r}") from None


def kind_of(settings: Settings) -> str:
    """Which topology the settings select."""
    if settings.redis_cluster_nodes and settings.redis_sentinels:
        raise ConfigError("set REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both")
    if settings.redis_cluster_nodes:
        return CLUSTER
    if settings.redis_sentinels:
        return SENTINEL
    return SINGLE


def connect(settings: Settings) -> Topology:
    """The client of the configured topology. Nothing connects until the first command."""
    kind = kind_of(settings)
    if kind == CLUSTER:
        return _cluster(settings)
    if kind == SENTINEL:
        return _sentinel(settings)
    client = make_client(
        settings.redis_url,
        settings.redis_socket_timeout,
        settings.redis_connect_timeout,
        settings.redis_password,
    )
    db = int(client.connection_pool.connection_kwargs.get("db", 0))
    return Topology(SINGLE, client, db, lambda: [(node_name(client), client)], False)


def _timeouts(settings: Settings) -> dict[str, Any]:
    return {
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "health_check_interval": 0,
    }


class _NodeClients:
    """One plain client per node name, made on first use, for `INFO` and `CLUSTER NODES`."""

    def __init__(self, settings: Settings, db: int) -> None:
        self.settings = settings
        self.db = db
        self._clients: dict[str, redis.Redis] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> redis.Redis:
        with self._lock:
            client = self._clients.get(name)
            if client is None:
                host, port = parse_address(name)
                kwargs: dict[str, Any] = {"retry": None, **_timeouts(self.settings)}
                client = redis.Redis(
                    host=host,
                    port=port,
                    db=self.db,
                    password=self.settings.redis_password,
                    **kwargs,
                )
                self._clients[name] = client
            return client

    def pairs(self, names: Iterable[str]) -> list[tuple[str, Any]]:
        return [(name, self.get(name)) for name in sorted(set(names))]


# -- Redis Cluster -------------------------------------------------------------------------
class LazyCluster:
    """A RedisCluster made on first use, so that the service starts while the cluster is down.

    RedisCluster reads the slot map in its constructor; until that succeeds, each
    call tries again and fails as a connection error (which feeds the breaker).
    """

    def __init__(self, factory: Callable[[], RedisCluster]) -> None:
        self._factory = factory
        self._client: RedisCluster | None = None
        self._lock = threading.Lock()

    @property
    def cluster(self) -> RedisCluster:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    try:
                        self._client = self._factory()
                    except (rexc.RedisClusterException, rexc.RedisError) as exc:
                        raise rexc.ConnectionError(f"Redis Cluster unreachable: {exc}") from exc
        return self._client

    def register_script(self, script: str) -> Script:
        return Script(self, script)  # type: ignore[arg-type]

    def get_encoder(self) -> Encoder:
        """RedisCluster's default encoder, without connecting (Script hashes with it)."""
        return Encoder("utf-8", "strict", False)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.cluster, name)


def _cluster_members(reply: dict[str, dict[str, Any]]) -> list[str]:
    """Every node (`host:port`) of a parsed `CLUSTER NODES` reply, failed ones included."""
    return [
        address
        for address, node in reply.items()
        if address and not address.startswith(":") and "noaddr" not in node.get("flags", "")
    ]


def _cluster(settings: Settings) -> Topology:
    seeds = [parse_address(node) for node in settings.redis_cluster_nodes]

    def factory() -> RedisCluster:
        kwargs = _timeouts(settings)
        if settings.redis_password:
            kwargs["password"] = settings.redis_password
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in seeds],
            retry=Retry(NoBackoff(), 0),
            **kwargs,
        )

    client = LazyCluster(factory)
    node_clients = _NodeClients(settings, 0)
    known = [f"{host}:{port}" for host, port in seeds]

    def nodes() -> list[tuple[str, Any]]:
        """Every node the cluster knows (primaries, replicas, failed ones), from CLUSTER NODES."""
        nonlocal known
        for name in list(known):
            try:
                reply = node_clients.get(name).execute_command("CLUSTER NODES")
            except rexc.RedisError:
                continue
            members = _cluster_members(reply)
            if members:
                known = members
                break
        return node_clients.pairs(known)

    return Topology(CLUSTER, client, 0, nodes, True)


# -- Sentinel ------------------------------------------------------------------------------
def _sentinel(settings: Settings) -> Topology:
    db = int(urlparse(settings.redis_url).path.strip("/") or 0)
    service = settings.redis_sentinel_master
    sentinel = Sentinel(
        [parse_address(node) for node in settings.redis_sentinels],
        sentinel_kwargs={"retry": None, **_timeouts(settings)},
    )
    client = sentinel.master_for(
        service, db=db, password=settings.redis_password, retry=None, **_timeouts(settings)
    )
    node_clients = _NodeClients(settings, db)
    known: list[str] = []

    def nodes() -> list[tuple[str, Any]]:
        """The primary and every replica the sentinels know of, those down included."""
        nonlocal known
        for each in sentinel.sentinels:
            try:
                primary: Any = each.sentinel_master(service)
                replicas: Any = each.sentinel_slaves(service)
            except rexc.RedisError:
                continue
            known = [f"{primary['ip']}:{primary['port']}"] + [
                f"{r['ip']}:{r['port']}" for r in replicas
            ]
            break
        return node_clients.pairs(known)

    return Topology(SENTINEL, client, db, nodes, True)
