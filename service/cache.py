"""The cache layer: `@cached` on any Flask view, backed by Redis, measured by Prometheus.

    @bp.get("/api/areas/<listing_type>")
    @cached("areas", params=lambda listing_type: {"listing_type": check(listing_type)})
    def areas(listing_type: str) -> dict:
        return area_stats(engine, listing_type)

`params` turns the view's arguments into canonical, validated keyword
arguments (raising ApiError on bad input, before the cache is touched); the
view returns JSON-ready data. Every request is counted once: a hit, a miss
(`cold` or `expired`) or a bypass. What the cache does for a request:

- a fresh entry is a hit, sent as stored; a hot entry near its expiry is
  recomputed early in the background (XFetch, Vattani et al., VLDB 2015);
- entries live in Redis `grace_seconds` past their logical TTL, so an expired
  miss is told from a cold one and a stale answer can stand in when the
  database fails;
- concurrent misses on one key compute it once: the first takes a short
  Redis lock, the others wait briefly for its result;
- any Redis failure costs the request the cache, never the response;
- with a near cache (CACHE_NEAR_SIZE > 0), hot entries are answered from the
  worker's memory (a hit with tier="local"), kept correct by Redis' client-side
  caching invalidations (service.near_cache).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from flask import Flask, Response, current_app, g, json

from service import envelope
from service.config import Settings
from service.errors import BackendUnavailable
from service.keys import CacheKey, cache_key
from service.metrics import CacheMetrics, EndpointMetrics
from service.near_cache import NearCache
from service.sampling import Sampler
from service.store import RedisStore, ReplyError, Unavailable
from service.timing import label

log = logging.getLogger(__name__)

View = Callable[..., Any]
EXTENSION = "cachewatch.cache"
_WAIT_STEP = 0.01
_RESULT_LABELS = {"HIT": "hit", "MISS": "miss", "BYPASS": "bypass"}


def _json_response(body: bytes, result: str, age: float | None = None) -> Response:
    response = Response(body, content_type="application/json")
    headers = response.headers  # new headers: add, no need to look for an old value
    headers.add("X-Cache", result)
    if age is not None:
        headers.add("Age", str(int(age)))
    label(cache=_RESULT_LABELS[result])
    return response


class Cache:
    """One per app: settings, the Redis store, the metrics and the refresh worker."""

    def __init__(
        self,
        settings: Settings,
        store: RedisStore,
        metrics: CacheMetrics,
        sampler: Sampler | None = None,
        near: NearCache | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.sampler = sampler
        self.near = near
        self.enabled = settings.redis_enabled
        self._refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-refresh")
        self._refreshing: set[str] = set()
        self._refreshing_lock = threading.Lock()
        metrics.enabled.set(1 if self.enabled else 0)
        for name, ttl in settings.ttl.items():
            metrics.ttl.labels(name).set(ttl)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self

    # -- the request path -----------------------------------------------------------
    def serve(self, name: str, params: dict[str, Any], view: View) -> Response:
        m = self.metrics.endpoint(name)
        if not self.enabled:
            m.bypass["disabled"].inc()
            return _json_response(self._dumps(m, self._compute(m, view, params))[0], "BYPASS")
        key = cache_key(name, params)
        near, token = self.near, None
        if near is not None:
            entry = near.get(key.key)
            if entry is not None:
                now = time.time()
                if entry.fresh(now):
                    return self._hit(m, m.hit_local, key, entry, now, view, params)
            token = near.begin(key.key)
        try:
            raw = self.store.get(key.key)
        except Unavailable as exc:
            return self._bypass(m, key, exc.reason, view, params)
        except ReplyError:
            m.errors["get"].inc()
            raw = None
        now = time.time()
        stale = self._decode(m, raw)
        if stale is not None and stale.fresh(now):
            if near is not None:
                near.put(key.key, token, stale)
            return self._hit(m, m.hit_redis, key, stale, now, view, params)
        reason = "expired" if stale is not None else "cold"
        m.miss[reason].inc()
        body, size = self._fill(m, key, view, params, stale)
        self._sample(key, "miss", reason, size)
        return body

    def _hit(
        self,
        m: EndpointMetrics,
        counter: Any,
        key: CacheKey,
        entry: envelope.Entry,
        now: float,
        view: View,
        params: dict[str, Any],
    ) -> Response:
        counter.inc()
        age = entry.age(now)
        m.hit_age.observe(age)
        if self._should_refresh(entry, now):
            self._refresh_later(m, key, view, params)
        self._sample(key, "hit", "", len(entry.body))
        return _json_response(entry.body, "HIT", age)

    def _bypass(
        self, m: EndpointMetrics, key: CacheKey, reason: str, view: View, params: dict[str, Any]
    ) -> Response:
        m.bypass[reason].inc()
        body = self._dumps(m, self._compute(m, view, params))[0]
        self._sample(key, "bypass", reason, len(body))
        return _json_response(body, "BYPASS")

    def _decode(self, m: EndpointMetrics, raw: bytes | None) -> envelope.Entry | None:
        if raw is None:
            return None
        try:
            return envelope.unpack(raw)
        except envelope.CorruptEntry:
            m.errors["deserialize"].inc()
            return None

    def _fill(
        self,
        m: EndpointMetrics,
        key: CacheKey,
        view: View,
        params: dict[str, Any],
        stale: envelope.Entry | None,
    ) -> tuple[Response, int]:
        """Compute a missing entry once, however many requests want it now."""
        token = self._try_lock(m, key)
        if token is None:
            waited = self._wait_for(m, key)
            if waited is not None:
                return _json_response(waited.body, "MISS", waited.age(time.time())), len(
                    waited.body
                )
        try:
            data = self._compute(m, view, params, stale)
            body, cacheable = self._dumps(m, data)
            if cacheable:  # stored before the lock is let go: waiters find it
                self._store(m, key, body, data_delta=g.pop("backend_seconds", 0.0))
        except _StaleServed as served:
            return served.response, len(served.response.get_data())
        finally:
            if token not in (None, ""):
                self._unlock(key, token)
        return _json_response(body, "MISS"), len(body)

    def _try_lock(self, m: EndpointMetrics, key: CacheKey) -> str | None:
        """The lock's token; None if another request holds it; "" if Redis would not say."""
        try:
            return self.store.acquire(key.lock, self.settings.lock_seconds)
        except (Unavailable, ReplyError):
            m.errors["lock"].inc()
            return ""

    def _unlock(self, key: CacheKey, token: str) -> None:
        with contextlib.suppress(Unavailable, ReplyError):  # the lock expires by itself
            self.store.release(key.lock, token)

    def _wait_for(self, m: EndpointMetrics, key: CacheKey) -> envelope.Entry | None:
        """Wait for the lock holder's entry; stop early if it let go without storing one
        (its database call failed): waiting on would cost the full wait for nothing."""
        deadline = time.monotonic() + self.settings.lock_wait_seconds
        while time.monotonic() < deadline:
            time.sleep(_WAIT_STEP)
            try:
                holder_done = not self.store.held(key.lock)  # asked first: it stores, then lets go
                entry = self._decode(m, self.store.get(key.key))
            except (Unavailable, ReplyError):
                break
            if entry is not None and entry.fresh(time.time()):
                m.lock_wait_filled.inc()
                return entry
            if holder_done:
                break
        m.lock_wait_timeout.inc()
        return None

    def _compute(
        self,
        m: EndpointMetrics,
        view: View,
        params: dict[str, Any],
        stale: envelope.Entry | None = None,
    ) -> Any:
        start = time.perf_counter()
        try:
            data = view(**params)
        except Exception as exc:
            if not _is_backend_error(exc):
                raise
            m.backend_errors.inc()
            log.warning("database error: %s", exc)
            if stale is not None:
                m.stale_served.inc()
                response = _json_response(stale.body, "MISS", stale.age(time.time()))
                response.headers["X-Cache-Stale"] = "1"
                raise _StaleServed(response) from exc
            raise BackendUnavailable() from exc
        elapsed = time.perf_counter() - start
        m.backend_seconds.observe(elapsed)
        g.backend_seconds = elapsed
        return data

    def _dumps(self, m: EndpointMetrics, data: Any) -> tuple[bytes, bool]:
        """The JSON body and whether it can be cached (orjson could serialize it)."""
        try:
            return orjson.dumps(data), True
        except TypeError:
            m.errors["serialize"].inc()
            return json.dumps(data).encode(), False

    def _store(self, m: EndpointMetrics, key: CacheKey, body: bytes, data_delta: float) -> None:
        ttl = self.settings.ttl[key.endpoint]
        raw = envelope.pack(body, time.time(), ttl, data_delta)
        try:
            self.store.set(key.key, raw, ttl + self.settings.grace_seconds)
        except (Unavailable, ReplyError):
            m.errors["set"].inc()
            return
        m.entry_size.observe(len(raw))

    # -- early refresh (XFetch) ---------------------------------------------------------
    def _should_refresh(self, entry: envelope.Entry, now: float) -> bool:
        beta = self.settings.xfetch_beta
        if beta <= 0 or entry.delta <= 0:
            return False
        gap = -entry.delta * beta * math.log(max(random.random(), 1e-12))
        return now + gap >= entry.created + entry.ttl

    def _refresh_later(
        self, m: EndpointMetrics, key: CacheKey, view: View, params: dict[str, Any]
    ) -> None:
        with self._refreshing_lock:
            if key.key in self._refreshing:
                return
            self._refreshing.add(key.key)
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._refresher.submit(self._refresh, app, m, key, view, params)

    def _refresh(
        self, app: Flask, m: EndpointMetrics, key: CacheKey, view: View, params: dict[str, Any]
    ) -> None:
        try:
            with app.app_context():
                token = self._try_lock(m, key)
                if not token:
                    return
                try:
                    data = self._compute(m, view, params)
                    body, cacheable = self._dumps(m, data)
                    if cacheable:
                        self._store(m, key, body, g.pop("backend_seconds", 0.0))
                        m.refreshes.inc()
                finally:
                    self._unlock(key, token)
        except Exception:
            log.exception("early refresh of %s failed", key.key)
        finally:
            with self._refreshing_lock:
                self._refreshing.discard(key.key)

    # -- warm-up and sampling -----------------------------------------------------------
    def warm(self, name: str, params: dict[str, Any], view: View) -> int:
        """Compute and store one entry now; return its size in bytes."""
        m = self.metrics.endpoint(name)
        key = cache_key(name, params)
        data = self._compute(m, view, params)
        body, cacheable = self._dumps(m, data)
        if cacheable:
            self._store(m, key, body, g.pop("backend_seconds", 0.0))
        return len(body)

    def _sample(self, key: CacheKey, result: str, reason: str, size: int) -> None:
        if self.sampler is not None:
            self.sampler.request(key, result, reason, size)


class _StaleServed(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("stale entry served")
        self.response = response


def _is_backend_error(exc: Exception) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError | OSError)


def cached(
    name: str, params: Callable[..., dict[str, Any]] | None = None
) -> Callable[[View], View]:
    """Cache a Flask view under the cache name `name` (the `endpoint` metric label)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(**view_args: Any) -> Response:
            label(endpoint=name)
            kwargs = params(**view_args) if params is not None else dict(view_args)
            cache: Cache = current_app.extensions[EXTENSION]
            return cache.serve(name, kwargs, view)

        return wrapper

    return decorate
