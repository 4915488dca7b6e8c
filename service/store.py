"""Redis, behind a circuit breaker, with every round trip timed and every failure classified.

    store = RedisStore(client, CircuitBreaker(), metrics)
    raw = store.get(key)             # raises Unavailable("circuit_open" | "redis_error")

Connection failures and timeouts feed the breaker; a reply that is an error
(a full Redis refusing writes, a foreign value of the wrong type) does not,
since Redis itself is up.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import redis
from redis import exceptions as rexc

from service.breaker import OPEN, CircuitBreaker
from service.metrics import CacheMetrics

T = TypeVar("T")

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

# Redis cannot be used right now (these feed the breaker). CLUSTERDOWN/MASTERDOWN are
# replies, but mean that no primary serves the key; RedisClusterException (not a
# RedisError) is what redis-py raises when it cannot read the cluster's slot map.
_CONNECTION_ERRORS = (
    rexc.ConnectionError,
    rexc.TimeoutError,
    rexc.ClusterDownError,
    rexc.RedisClusterException,
    OSError,
)


class Unavailable(Exception):
    """Redis could not be used for this call; `reason` is a bypass reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplyError(Exception):
    """Redis answered, with an error (out of memory, wrong type, ...)."""


class RedisStore:
    def __init__(self, client: Any, breaker: CircuitBreaker, metrics: CacheMetrics) -> None:
        self.client = client
        self.breaker = breaker
        self.metrics = metrics
        self._release = client.register_script(_RELEASE)
        breaker.on_change = lambda state: metrics.circuit_open.set(1 if state == OPEN else 0)
        metrics.circuit_open.set(0)

    def run(self, op: str, fn: Callable[[], T]) -> T:
        """Call `fn` (one Redis round trip, or a pipeline) as operation `op`."""
        if not self.breaker.allow():
            raise Unavailable("circuit_open")
        histogram = self.metrics.operations.get(op)
        start = time.perf_counter()
        try:
            result = fn()
        except _CONNECTION_ERRORS as exc:
            self.breaker.failure()
            raise Unavailable("redis_error") from exc
        except rexc.RedisError as exc:
            self.breaker.success()
            raise ReplyError(str(exc)) from exc
        finally:
            if histogram is not None:
                histogram.observe(time.perf_counter() - start)
        self.breaker.success()
        return result

    def get(self, key: str) -> bytes | None:
        return self.run("get", lambda: self.client.get(key))

    def set(self, key: str, value: bytes, seconds: int) -> None:
        self.run("set", lambda: self.client.set(key, value, ex=max(1, seconds)))

    def acquire(self, lock_key: str, seconds: float) -> str | None:
        """Take a short lock; return its token, or None if another holds it."""
        token = secrets.token_hex(8)
        ok = self.run(
            "lock", lambda: self.client.set(lock_key, token, nx=True, px=int(seconds * 1000))
        )
        return token if ok else None

    def held(self, lock_key: str) -> bool:
        """Whether someone holds the lock `lock_key` now."""
        return bool(self.run("lock", lambda: self.client.exists(lock_key)))

    def release(self, lock_key: str, token: str) -> None:
        self.run("lock", lambda: self._release(keys=[lock_key], args=[token]))

    def scan(self, pattern: str, count: int = 500) -> Iterator[str]:
        """Every key matching `pattern` (SCAN, never KEYS)."""
        if not self.breaker.allow():
            raise Unavailable("circuit_open")
        try:
            for key in self.client.scan_iter(match=pattern, count=count):
                yield key.decode() if isinstance(key, bytes) else key
        except _CONNECTION_ERRORS as exc:
            self.breaker.failure()
            raise Unavailable("redis_error") from exc

    def unlink(self, keys: list[str]) -> int:
        if not keys:
            return 0
        return int(self.run("delete", lambda: self.client.unlink(*keys)))


def make_client(
    url: str,
    socket_timeout: float,
    connect_timeout: float,
    password: str | None = None,
) -> redis.Redis:
    """A redis-py client for one server: short timeouts, no hidden retries (the breaker decides)."""
    kwargs: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": None,
        "retry_on_timeout": False,
        "health_check_interval": 0,
    }
    if password:
        kwargs["password"] = password
    return redis.Redis.from_url(url, **kwargs)
