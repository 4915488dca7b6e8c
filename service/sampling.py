"""Key-sampled access events, for the weekly TTL review (ttlreview/ reads them).

    sampler = Sampler(store, rates={"valuation": 0.1, ...}, ttl={...}, maxlen=1_000_000,
                      metrics=metrics)
    sampler.request(key, "miss", "cold", size=2711)

SHARDS-style spatial sampling (Waldspurger et al., FAST 2015): a key is
sampled when the hash of `endpoint:digest` falls below its endpoint's rate,
and then every request of it is kept, so each sampled key's timeline is exact.
Events go to a capped stream in pipelined batches, off the request path.

Stream `cachewatch:v1:events`, fields (strings): ts, endpoint, key (digest, or
`*` for every key of the endpoint), event (request|invalidate|change), result
(hit|miss|bypass), reason, size, ttl, rate.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from service.keys import EVENTS_STREAM, CacheKey

if TYPE_CHECKING:
    from service.metrics import CacheMetrics
    from service.store import RedisStore

_SCALE = float(2**64)


def key_hash(endpoint: str, digest: str) -> int:
    """The 64-bit hash of one key: BLAKE2b (8 bytes) of `endpoint:digest`, big-endian.

    ttlreview reads the same hash to re-sample traces and split them into sub-samples.
    """
    raw = hashlib.blake2b(f"{endpoint}:{digest}".encode(), digest_size=8).digest()
    return int.from_bytes(raw, "big")


def is_sampled(endpoint: str, digest: str, rate: float) -> bool:
    """Whether every event of this key is kept: its hash, as a share of 2**64, is below `rate`."""
    return rate >= 1.0 or (rate > 0.0 and key_hash(endpoint, digest) / _SCALE < rate)


class Sampler:
    """Buffers sampled events in memory; a background thread writes them in pipelined batches.

    A request pays a hash and a list append; Redis sees one pipeline every
    `flush_seconds` (or `batch` events). Events are dropped, and counted as
    `cachewatch_cache_errors_total{operation="sample"}`, when Redis fails or the
    buffer is full: sampling never fails or slows a request.
    """

    def __init__(
        self,
        store: RedisStore,
        rates: Mapping[str, float],
        ttl: Mapping[str, int],
        maxlen: int,
        metrics: CacheMetrics,
        flush_seconds: float = 0.5,
        batch: int = 500,
        capacity: int = 20_000,
    ) -> None:
        self.store = store
        self.rates = dict(rates)
        self.ttl = ttl
        self.maxlen = maxlen
        self.metrics = metrics
        self.flush_seconds = flush_seconds
        self.batch = batch
        self.capacity = capacity
        self._buffer: list[tuple[float, str, str, str, str, str, str]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._owner_pid = 0

    def request(self, key: CacheKey, result: str, reason: str, size: int) -> None:
        if is_sampled(key.endpoint, key.digest, self.rates.get(key.endpoint, 0.0)):
            self._add(key.endpoint, key.digest, "request", result, reason, str(size))

    def event(self, endpoint: str, digest: str, event: str) -> None:
        """An invalidation or a data change (digest `*`: every key of the endpoint)."""
        rate = self.rates.get(endpoint, 0.0)
        if rate > 0 and (digest == "*" or is_sampled(endpoint, digest, rate)):
            self._add(endpoint, digest, event, "", "", "")

    def _add(self, endpoint: str, digest: str, event: str, result: str, reason: str,
             size: str) -> None:  # fmt: skip
        with self._lock:
            if len(self._buffer) >= self.capacity:
                self.metrics.endpoint(endpoint).errors["sample"].inc()
                return
            self._buffer.append((time.time(), endpoint, digest, event, result, reason, size))
            full = len(self._buffer) >= self.batch
        if self._owner_pid != os.getpid():  # first event in this process (gunicorn forks)
            self._start()
        if full:
            self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
        threading.Thread(target=self._run, name="cache-sampler", daemon=True).start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Write what is buffered now; return how many events were written."""
        with self._lock:
            events, self._buffer = self._buffer, []
        if not events:
            return 0
        try:
            pipe = self.store.client.pipeline(transaction=False)
            for ts, endpoint, digest, event, result, reason, size in events:
                fields = {"ts": f"{ts:.3f}", "endpoint": endpoint, "key": digest, "event": event,
                          "result": result, "reason": reason, "size": size,
                          "ttl": str(self.ttl.get(endpoint, "")) if event == "request" else "",
                          "rate": repr(self.rates.get(endpoint, 0.0))}  # fmt: skip
                pipe.xadd(EVENTS_STREAM, fields, maxlen=self.maxlen, approximate=True)
            self.store.run("sample", pipe.execute)
        except Exception:  # noqa: BLE001 - sampling must never fail anything
            for _, endpoint, *_rest in events:
                self.metrics.endpoint(endpoint).errors["sample"].inc()
            return 0
        return len(events)
