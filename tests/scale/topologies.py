"""Real Redis topologies on loopback for the scale tests and bench/scale.py.

    with RedisClusterServers(primaries=3, replicas=1) as cluster:
        env = {"REDIS_CLUSTER_NODES": cluster.nodes_env}

    with SentinelServers() as sentinels:
        env = {"REDIS_SENTINELS": sentinels.sentinels_env, "REDIS_SENTINEL_MASTER": "mymaster"}

Each server is a `RedisServer` (or a `SentinelServer`) on a free port in its own
temporary folder; leaving the `with` block kills them all.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import redis
import requests

from tests.support.procs import ManagedProcess, RedisServer, free_port, wait_until


def info(server: RedisServer, section: str = "replication") -> dict[str, str]:
    """`INFO section` of a live server as a flat dict of strings."""
    out: dict[str, str] = {}
    for line in server.cli("INFO", section).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def role(server: RedisServer) -> str:
    """`master` or `slave`."""
    return info(server)["role"]


class _ServerGroup:
    """Several servers started and stopped together, as a context manager."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RedisClusterServers(_ServerGroup):
    """A Redis Cluster of `primaries` primaries with `replicas` replicas each."""

    def __init__(self, primaries: int = 3, replicas: int = 1, node_timeout_ms: int = 1000) -> None:
        self.primaries_wanted = primaries
        self.replicas = replicas
        self.servers = [self._node(node_timeout_ms) for _ in range(primaries * (1 + replicas))]

    @staticmethod
    def _node(node_timeout_ms: int) -> RedisServer:
        return RedisServer(
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(node_timeout_ms),
            "--cluster-port", str(free_port()),
        )  # fmt: skip

    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.1:{s.port}" for s in self.servers]

    @property
    def nodes_env(self) -> str:
        """The value of REDIS_CLUSTER_NODES."""
        return ",".join(self.addresses)

    def start(self) -> RedisClusterServers:
        for server in self.servers:
            server.start()
        subprocess.run(
            ["redis-cli", "--cluster", "create", *self.addresses,
             "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        wait_until(self.healthy, 30, "the cluster to agree and its replicas to sync")
        return self

    def alive(self) -> list[RedisServer]:
        return [s for s in self.servers if s.proc is not None]

    def healthy(self) -> bool:
        """Every live node sees the cluster ok, and every live replica is in sync."""
        for server in self.alive():
            if "cluster_state:ok" not in server.cli("CLUSTER", "INFO"):
                return False
            replication = info(server)
            if replication["role"] == "slave" and replication.get("master_link_status") != "up":
                return False
        return len(self.primaries()) == self.primaries_wanted

    def primaries(self) -> list[RedisServer]:
        return [s for s in self.alive() if role(s) == "master"]

    def replica_of(self, primary: RedisServer) -> RedisServer:
        for server in self.alive():
            replication = info(server)
            if replication["role"] == "slave" and replication["master_port"] == str(primary.port):
                return server
        raise LookupError(f"no replica of {primary.port}")

    def keys_on(self, server: RedisServer, pattern: str = "cachewatch:*") -> set[str]:
        """The keys one node holds (SCAN on that node alone)."""
        client = redis.Redis(port=server.port, decode_responses=True)
        try:
            return set(client.scan_iter(match=pattern, count=500))
        finally:
            client.close()

    def stop(self) -> None:
        for server in self.servers:
            server.cleanup()


class SentinelServer(ManagedProcess):
    """A real `redis-server --sentinel` watching one primary as `master_name`."""

    name = "sentinel"
    ready_timeout = 10.0

    def __init__(
        self, primary_port: int, master_name: str = "mymaster", down_ms: int = 1000
    ) -> None:
        super().__init__()
        self.primary_port = primary_port
        self.master_name = master_name
        self.down_ms = down_ms

    def command(self) -> Sequence[str]:
        conf = self.dir / "sentinel.conf"
        if not conf.exists():
            conf.write_text(
                f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\n"
                f"sentinel monitor {self.master_name} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {self.master_name} {self.down_ms}\n"
                f"sentinel failover-timeout {self.master_name} 5000\n"
                f"sentinel parallel-syncs {self.master_name} 1\n"
            )
        return ["redis-server", str(conf), "--sentinel"]

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
        return out.stdout.strip()

    def is_ready(self) -> bool:
        return self.cli("PING") == "PONG"

    def master_state(self) -> dict[str, str]:
        lines = self.cli("SENTINEL", "MASTER", self.master_name).splitlines()
        return dict(zip(lines[::2], lines[1::2], strict=False))

    def primary_port_now(self) -> int:
        return int(self.cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name).split()[1])


class SentinelServers(_ServerGroup):
    """A primary, `replicas` replicas and `sentinels` sentinels (quorum 2)."""

    def __init__(
        self, replicas: int = 1, sentinels: int = 3, master_name: str = "mymaster"
    ) -> None:
        self.master_name = master_name
        self.primary = RedisServer()
        self.replicas = [
            RedisServer("--replicaof", "127.0.0.1", str(self.primary.port)) for _ in range(replicas)
        ]
        self.sentinels = [SentinelServer(self.primary.port, master_name) for _ in range(sentinels)]

    @property
    def data_servers(self) -> list[RedisServer]:
        return [self.primary, *self.replicas]

    @property
    def sentinels_env(self) -> str:
        """The value of REDIS_SENTINELS."""
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def start(self) -> SentinelServers:
        for server in self.data_servers:
            server.start()
        for sentinel in self.sentinels:
            sentinel.start()
        wait_until(self.healthy, 30, "the sentinels to see the replicas and each other")
        return self

    def healthy(self) -> bool:
        for replica in self.replicas:
            if info(replica).get("master_link_status") != "up":
                return False
        wanted_others, wanted_replicas = str(len(self.sentinels) - 1), str(len(self.replicas))
        for sentinel in self.sentinels:
            state = sentinel.master_state()
            if state.get("num-other-sentinels") != wanted_others:
                return False
            if state.get("num-slaves") != wanted_replicas or state.get("flags") != "master":
                return False
        return True

    def primary_now(self) -> RedisServer:
        port = self.sentinels[0].primary_port_now()
        return next(s for s in self.data_servers if s.port == port)

    def stop(self) -> None:
        for server in [*self.sentinels, *self.data_servers]:
            server.cleanup()


class Traffic(threading.Thread):
    """Requests `urls` in turn from a background thread until stopped; keeps every outcome.

    Each record is (monotonic time, url, status code, X-Cache header). A request
    that fails outright (no HTTP answer) is recorded with status 0.
    """

    def __init__(self, urls: list[str], limit_seconds: float = 120.0) -> None:
        super().__init__(daemon=True)
        self.urls = urls
        self.limit_seconds = limit_seconds
        self.records: list[tuple[float, str, int, str]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        deadline = time.monotonic() + self.limit_seconds
        i = 0
        while not self._stop_event.is_set() and time.monotonic() < deadline:
            url = self.urls[i % len(self.urls)]
            i += 1
            try:
                response = session.get(url, timeout=10)
                status, cache = response.status_code, response.headers.get("X-Cache", "")
            except requests.RequestException:
                status, cache = 0, ""
            self.records.append((time.monotonic(), url, status, cache))

    def stop(self) -> list[tuple[float, str, int, str]]:
        self._stop_event.set()
        self.join(30)
        return self.records

    def since(self, t: float) -> list[tuple[float, str, int, str]]:
        return [r for r in list(self.records) if r[0] >= t]
