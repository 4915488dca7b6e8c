"""Redis figures for `/metrics`, read from `INFO` at scrape time.

    registry.register(RedisInfoCollector(lambda: [("127.0.0.1:6379", client)]))

One series per node, labelled `node`. `INFO` is asked at most once every
`cache_seconds` per process, so frequent scrapes cost Redis nothing more; a
node that does not answer reports `cachewatch_redis_up{node} 0` and nothing else.

With `primaries_only` (Cluster and Sentinel), every node reports `up`, but only
the nodes whose `INFO` says `role:master` report memory, keys, evictions and
expirations: a replica holds copies of its primary's keys, so summing
`cachewatch_redis_keys` over nodes counts each key once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

Nodes = Callable[[], list[tuple[str, Any]]]


def node_name(client: Any) -> str:
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return str(kwargs["path"])
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


class RedisInfoCollector(Collector):
    def __init__(
        self,
        nodes: Nodes,
        db: int = 0,
        cache_seconds: float = 2.0,
        primaries_only: bool = False,
    ) -> None:
        self.nodes = nodes
        self.db = db
        self.cache_seconds = cache_seconds
        self.primaries_only = primaries_only
        self._snapshot: list[tuple[str, dict[str, Any] | None]] = []
        self._taken = -1e9
        self._lock = threading.Lock()

    def snapshot(self) -> list[tuple[str, dict[str, Any] | None]]:
        """(node, INFO or None) per node, at most `cache_seconds` old."""
        with self._lock:
            if time.monotonic() - self._taken >= self.cache_seconds:
                taken = []
                for name, client in self.nodes():
                    try:
                        taken.append((name, client.info()))
                    except Exception:  # noqa: BLE001 - a dead node is reported as down
                        taken.append((name, None))
                self._snapshot, self._taken = taken, time.monotonic()
            return self._snapshot

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "cachewatch_redis_up", "1 when the Redis node answered INFO.", labels=["node"]
        )
        used = GaugeMetricFamily(
            "cachewatch_redis_memory_used_bytes", "Redis used_memory.", labels=["node"]
        )
        limit = GaugeMetricFamily(
            "cachewatch_redis_memory_max_bytes", "Redis maxmemory (0: no limit).", labels=["node"]
        )
        keys = GaugeMetricFamily(
            "cachewatch_redis_keys", "Keys in the service's Redis database.", labels=["node"]
        )
        evicted = CounterMetricFamily(
            "cachewatch_redis_evicted_keys", "Redis evicted_keys.", labels=["node"]
        )
        expired = CounterMetricFamily(
            "cachewatch_redis_expired_keys", "Redis expired_keys.", labels=["node"]
        )
        for name, info in self.snapshot():
            up.add_metric([name], 0 if info is None else 1)
            if info is None or (self.primaries_only and info.get("role") != "master"):
                continue
            used.add_metric([name], float(info.get("used_memory", 0)))
            limit.add_metric([name], float(info.get("maxmemory", 0)))
            space = info.get(f"db{self.db}") or {}
            keys.add_metric([name], float(space.get("keys", 0) if isinstance(space, dict) else 0))
            evicted.add_metric([name], float(info.get("evicted_keys", 0)))
            expired.add_metric([name], float(info.get("expired_keys", 0)))
        yield from (up, used, limit, keys, evicted, expired)
