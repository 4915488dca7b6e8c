"""Key-sampled access events, for the weekly TTL review (ttlreview/ reads them).

    sampler = Sampler(store, rate=0.05, ttl={"areas": 3600, ...}, maxlen=1_000_000)
    sampler.request(key, "miss", "cold", size=2711)

SHARDS-style spatial sampling (Waldspurger et al., FAST 2015): a key is
sampled when the hash of `endpoint:digest` falls below `rate`, and then every
request of it is kept, so each sampled key's timeline is exact. An event costs
one XADD to a capped stream and never fails a request.

Stream `cachewatch:v1:events`, fields (strings): ts, endpoint, key (digest, or
`*` for every key of the endpoint), event (request|invalidate|change), result
(hit|miss|bypass), reason, size, ttl, rate.
"""

from __future__ import annotations

import hashlib
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
    def __init__(
        self,
        store: RedisStore,
        rate: float,
        ttl: Mapping[str, int],
        maxlen: int,
        metrics: CacheMetrics,
    ) -> None:
        self.store = store
        self.rate = rate
        self.ttl = ttl
        self.maxlen = maxlen
        self.metrics = metrics
        self._rate = repr(rate)

    def request(self, key: CacheKey, result: str, reason: str, size: int) -> None:
        if not is_sampled(key.endpoint, key.digest, self.rate):
            return
        self._add(
            key.endpoint,
            key.digest,
            "request",
            result,
            reason,
            str(size),
            str(self.ttl.get(key.endpoint, "")),
        )

    def event(self, endpoint: str, digest: str, event: str) -> None:
        """An invalidation or a data change (digest `*`: every key of the endpoint)."""
        if digest != "*" and not is_sampled(endpoint, digest, self.rate):
            return
        self._add(endpoint, digest, event, "", "", "", "")

    def _add(
        self, endpoint: str, digest: str, event: str, result: str, reason: str, size: str, ttl: str
    ) -> None:
        fields = {
            "ts": f"{time.time():.3f}",
            "endpoint": endpoint,
            "key": digest,
            "event": event,
            "result": result,
            "reason": reason,
            "size": size,
            "ttl": ttl,
            "rate": self._rate,
        }
        try:
            self.store.xadd(EVENTS_STREAM, fields, self.maxlen)
        except Exception:  # noqa: BLE001 - sampling must never fail a request
            self.metrics.endpoint(endpoint).errors["sample"].inc()
