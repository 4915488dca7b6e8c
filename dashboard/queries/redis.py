"""The Redis view: memory, keys, evictions and expirations, the circuit breaker, errors.

Every replica of the service reports the same Redis nodes, so node figures are
deduplicated with `max by (node)` and then summed over the nodes.

    memory = memory(client, window)        # series `used`, `maxmemory`
    status = redis_status(client, window, Scope())
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from dashboard.prom import PromClient, scalar
from dashboard.queries.common import Scope, concat, label, to_series
from dashboard.view import TimeWindow


def _nodes(metric: str, inner: str = "{}") -> str:
    """Sum over nodes of each node's value, deduplicated over replicas."""
    return f"sum(max by (node) ({inner.format(metric)}))"


def memory(client: PromClient, window: TimeWindow) -> pd.DataFrame:
    """Bytes used, and maxmemory when every node has a limit (0 means none)."""
    limit = "cachewatch_redis_memory_max_bytes"
    exprs = {
        "used": _nodes("cachewatch_redis_memory_used_bytes"),
        "maxmemory": f"{_nodes(limit)} unless on () (min(max by (node) ({limit})) == 0)",
    }
    frames = client.query_range_many(exprs, window.start, window.end, window.step)
    return concat([to_series(f, name) for name, f in frames.items()])


def keys(client: PromClient, window: TimeWindow) -> pd.DataFrame:
    frame = client.query_range(
        _nodes("cachewatch_redis_keys"), window.start, window.end, window.step
    )
    return to_series(frame, "keys")


def evictions(client: PromClient, window: TimeWindow) -> pd.DataFrame:
    """Evicted and expired keys per second."""
    w = window.rate_window
    exprs = {
        "evicted": _nodes("cachewatch_redis_evicted_keys_total", f"rate({{}}[{w}])"),
        "expired": _nodes("cachewatch_redis_expired_keys_total", f"rate({{}}[{w}])"),
    }
    frames = client.query_range_many(exprs, window.start, window.end, window.step)
    return concat([to_series(f, name) for name, f in frames.items()])


def circuit(client: PromClient, window: TimeWindow) -> pd.DataFrame:
    """1 while any worker's circuit breaker is open, else 0."""
    frame = client.query_range(
        "max(cachewatch_cache_circuit_open)", window.start, window.end, window.step
    )
    return to_series(frame, "circuit open")


def errors(client: PromClient, window: TimeWindow, scope: Scope) -> pd.DataFrame:
    """Failed cache operations per second, by operation."""
    expr = (
        "sum by (operation) (rate(cachewatch_cache_errors_total"
        f"{{{scope.matcher}}}[{window.rate_window}]))"
    )
    frame = client.query_range(expr, window.start, window.end, window.step)
    return to_series(frame, label("operation"))


@dataclasses.dataclass(frozen=True)
class RedisStatus:
    """The latest figures, for the cards at the top of the page (None: no data)."""

    nodes_up: int | None
    nodes: int | None
    used_bytes: float | None
    max_bytes: float | None
    keys: float | None
    circuit_open: bool | None
    errors: float | None
    evicted: float | None

    @property
    def has_data(self) -> bool:
        return self.nodes is not None or self.used_bytes is not None


def redis_status(client: PromClient, window: TimeWindow, scope: Scope) -> RedisStatus:
    """The state at the window's end (the latest value within an hour of it);
    errors and evictions are totals over the window."""
    w, recent = window.duration, window.latest
    last = f"last_over_time({{}}[{recent}])"
    exprs = {
        "up": f"max by (node) (last_over_time(cachewatch_redis_up[{recent}]))",
        "used": _nodes("cachewatch_redis_memory_used_bytes", last),
        "max_min": (
            f"min(max by (node) (last_over_time(cachewatch_redis_memory_max_bytes[{recent}])))"
        ),
        "max": _nodes("cachewatch_redis_memory_max_bytes", last),
        "keys": _nodes("cachewatch_redis_keys", last),
        "circuit": f"max(last_over_time(cachewatch_cache_circuit_open[{recent}]))",
        "errors": f"sum(increase(cachewatch_cache_errors_total{{{scope.matcher}}}[{w}]))",
        "evicted": _nodes("cachewatch_redis_evicted_keys_total", f"increase({{}}[{w}])"),
    }
    frames = client.query_many(exprs, at=window.end)
    up = frames["up"]
    circuit_now = scalar(frames["circuit"])
    max_min = scalar(frames["max_min"])
    return RedisStatus(
        nodes_up=int((up["value"] >= 1).sum()) if not up.empty else None,
        nodes=len(up) if not up.empty else None,
        used_bytes=scalar(frames["used"]),
        max_bytes=scalar(frames["max"]) if max_min else None,
        keys=scalar(frames["keys"]),
        circuit_open=None if circuit_now is None else circuit_now >= 1,
        errors=scalar(frames["errors"]),
        evicted=scalar(frames["evicted"]),
    )
