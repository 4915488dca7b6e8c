"""The service's Prometheus metrics, as one object bound to a registry.

    registry = CollectorRegistry()
    metrics = CacheMetrics(registry)
    metrics.endpoint("areas").hit_redis.inc()

Names and labels are documented in docs/metrics.md. Children for each cached
endpoint are bound once, so the hot path does no label lookups. Under gunicorn,
prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR) sums the workers.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, values
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from service.config import ENDPOINTS

#: Request latency buckets, 0.5 ms to 10 s.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
OPERATION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
SIZE_BUCKETS = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
AGE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400)

_pid = [os.getpid()]


def _after_fork() -> None:
    _pid[0] = os.getpid()


def _cached_pid() -> int:
    return _pid[0]


os.register_at_fork(after_in_child=_after_fork)
if values.ValueClass is not values.MutexValue and not getattr(values, "_cachewatch_pid", False):
    # Multiprocess mode checks os.getpid() on every update (five times per cache
    # hit); the pid only changes at a fork, so read it once per process instead.
    # Before any metric exists: values made by two ValueClasses would share a file.
    values.ValueClass = values.MultiProcessValue(process_identifier=_cached_pid)
    values._cachewatch_pid = True  # type: ignore[attr-defined]

MISS_REASONS = ("cold", "expired")
BYPASS_REASONS = ("disabled", "circuit_open", "redis_error", "uncacheable")
OPERATIONS = ("get", "set", "lock", "delete", "serialize", "deserialize", "sample")


@dataclasses.dataclass
class EndpointMetrics:
    """The pre-bound children of one cached endpoint."""

    hit_redis: Counter
    hit_local: Counter
    miss: dict[str, Counter]
    bypass: dict[str, Counter]
    errors: dict[str, Counter]
    stale_served: Counter
    refreshes: Counter
    lock_wait_filled: Counter
    lock_wait_timeout: Counter
    backend_errors: Counter
    backend_seconds: Histogram
    entry_size: Histogram
    hit_age: Histogram


class CacheMetrics:
    """Every metric the service emits from its own code (Redis figures come from redis_info)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = registry if registry is not None else CollectorRegistry()
        self.registry = reg
        self.hits = Counter(
            "cachewatch_cache_hits",
            "Requests answered from the cache.",
            ["endpoint", "tier"],
            registry=reg,
        )
        self.misses = Counter(
            "cachewatch_cache_misses",
            "Requests the cache could not answer.",
            ["endpoint", "reason"],
            registry=reg,
        )
        self.bypass = Counter(
            "cachewatch_cache_bypass",
            "Requests that did not use the cache.",
            ["endpoint", "reason"],
            registry=reg,
        )
        self.errors = Counter(
            "cachewatch_cache_errors",
            "Failed cache operations.",
            ["endpoint", "operation"],
            registry=reg,
        )
        self.stale_served = Counter(
            "cachewatch_cache_stale_served",
            "Stale entries served because the database failed.",
            ["endpoint"],
            registry=reg,
        )
        self.refreshes = Counter(
            "cachewatch_cache_refreshes",
            "Entries recomputed before they expired (XFetch).",
            ["endpoint"],
            registry=reg,
        )
        self.lock_waits = Counter(
            "cachewatch_cache_lock_waits",
            "Misses that waited for another request's computation.",
            ["endpoint", "outcome"],
            registry=reg,
        )
        self.backend_errors = Counter(
            "cachewatch_backend_errors",
            "Database failures while computing a response.",
            ["endpoint"],
            registry=reg,
        )
        self.request_seconds = Histogram(
            "cachewatch_http_request_duration_seconds",
            "Whole request time.",
            ["endpoint", "cache", "status"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.backend_seconds = Histogram(
            "cachewatch_backend_duration_seconds",
            "Database work for one computation; its count is the database load.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.operation_seconds = Histogram(
            "cachewatch_cache_operation_duration_seconds",
            "One Redis round trip.",
            ["operation"],
            buckets=OPERATION_BUCKETS,
            registry=reg,
        )
        self.entry_size = Histogram(
            "cachewatch_cache_entry_size_bytes",
            "Size of each stored entry.",
            ["endpoint"],
            buckets=SIZE_BUCKETS,
            registry=reg,
        )
        self.hit_age = Histogram(
            "cachewatch_cache_hit_age_seconds",
            "How old an entry was when it was hit.",
            ["endpoint"],
            buckets=AGE_BUCKETS,
            registry=reg,
        )
        self.ttl = Gauge(
            "cachewatch_cache_ttl_seconds",
            "The configured (logical) TTL.",
            ["endpoint"],
            registry=reg,
            multiprocess_mode="livemax",
        )
        self.enabled = Gauge(
            "cachewatch_cache_enabled",
            "1 when caching is on.",
            registry=reg,
            multiprocess_mode="livemax",
        )
        self.circuit_open = Gauge(
            "cachewatch_cache_circuit_open",
            "1 while the circuit breaker of any worker is open.",
            registry=reg,
            multiprocess_mode="livemax",
        )
        self.operations = {op: self.operation_seconds.labels(op) for op in ("get", "set", "lock")}
        self._endpoints = {name: self._bind(name) for name in ENDPOINTS}
        for name in ENDPOINTS:  # exported at 0 from the start, so rate() sees the first request
            for result in ("hit", "miss", "bypass"):
                self.request_seconds.labels(name, result, "2xx")

    def _bind(self, name: str) -> EndpointMetrics:
        return EndpointMetrics(
            hit_redis=self.hits.labels(name, "redis"),
            hit_local=self.hits.labels(name, "local"),
            miss={r: self.misses.labels(name, r) for r in MISS_REASONS},
            bypass={r: self.bypass.labels(name, r) for r in BYPASS_REASONS},
            errors={op: self.errors.labels(name, op) for op in OPERATIONS},
            stale_served=self.stale_served.labels(name),
            refreshes=self.refreshes.labels(name),
            lock_wait_filled=self.lock_waits.labels(name, "filled"),
            lock_wait_timeout=self.lock_waits.labels(name, "timeout"),
            backend_errors=self.backend_errors.labels(name),
            backend_seconds=self.backend_seconds.labels(name),
            entry_size=self.entry_size.labels(name),
            hit_age=self.hit_age.labels(name),
        )

    def endpoint(self, name: str) -> EndpointMetrics:
        """The bound children of cached endpoint `name` (one of config.ENDPOINTS)."""
        return self._endpoints[name]


class _Forward(Collector):
    """Collects another registry's metrics inside a fresh registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()


def all_workers(own: CollectorRegistry) -> CollectorRegistry:
    """A fresh registry with every worker's metrics (multiprocess mode), else this process's.

    `/metrics` adds the Redis collector to it; the admin stats read it.
    """
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(own))
    return registry
