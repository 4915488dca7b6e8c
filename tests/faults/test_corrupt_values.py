"""Corrupt or foreign values under cachewatch keys, and a Redis flushed mid-load.

Whatever sits under a cachewatch key, the request gets the right answer; the
bad value is counted (`cachewatch_cache_errors_total{operation="deserialize"}`
for bytes that are not an entry, `{operation="get"}` for a key of another type)
and replaced by a good entry with its expiry.
"""

from __future__ import annotations

import math
import pickle
import struct
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import redis

from service import envelope
from service.config import Settings
from service.keys import cache_key
from tests.faults.conftest import CALM_REDIS, LATENCY_MARGIN, cache_counts, delta, running
from tests.faults.figures import Figures
from tests.faults.traffic import (
    Load,
    between,
    fetch,
    reference_bodies,
    steady_urls,
    summary,
    wrong_bodies,
)
from tests.support.procs import RedisServer, ServiceProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

Writer = Callable[[redis.Redis, str], object]


def _header(created: float, ttl: int = 300, delta: float = 0.01) -> bytes:
    return struct.pack("<3sdIf", b"CW1", created, ttl, delta)


#: name → (how it is written, the error operation it is counted under)
BYTES, TYPE = "deserialize", "get"  # bytes that are not an entry; a key of another type
CORRUPTIONS: dict[str, tuple[Writer, str]] = {
    "empty string": (lambda r, k: r.set(k, b""), BYTES),
    "random bytes": (lambda r, k: r.set(k, bytes(range(256)) * 2), BYTES),
    "truncated header": (lambda r, k: r.set(k, _header(time.time())[:9]), BYTES),
    "wrong magic": (lambda r, k: r.set(k, b"CW9" + _header(time.time())[3:] + b"{}"), BYTES),
    "plain JSON": (lambda r, k: r.set(k, b'{"estimate": 1}'), BYTES),
    "pickle (Flask-Caching)": (lambda r, k: r.set(k, b"!" + pickle.dumps({"a": 1})), BYTES),
    "created NaN": (lambda r, k: r.set(k, _header(math.nan) + b"{}"), BYTES),
    "created +inf": (lambda r, k: r.set(k, _header(math.inf) + b"garbage"), BYTES),
    "negative delta": (lambda r, k: r.set(k, _header(time.time(), delta=-1) + b"{}"), BYTES),
    "infinite delta": (lambda r, k: r.set(k, _header(time.time(), delta=math.inf)), BYTES),
    "hash": (lambda r, k: r.hset(k, "body", "{}"), TYPE),
    "list": (lambda r, k: r.rpush(k, "{}"), TYPE),
    "set": (lambda r, k: r.sadd(k, "{}"), TYPE),
    "sorted set": (lambda r, k: r.zadd(k, {"{}": 1}), TYPE),
    "stream": (lambda r, k: r.xadd(k, {"body": "{}"}), TYPE),
}


def key_of(url: str) -> str:
    """The cache key the service uses for a valuation URL (service.keys, canonical params)."""
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    params = {
        "area": q["area"],
        "property_type": q["property_type"],
        "bedrooms": int(q["bedrooms"]),
        "size_sqm": round(float(q["size_sqm"])),
        "listing_type": q.get("listing_type", "buy"),
    }
    return cache_key("valuation", {"p": params}).key


@pytest.fixture
def service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    with running(ServiceProcess(redis_server.url, env=CALM_REDIS)) as svc:
        yield svc


def test_corrupt_and_foreign_values_are_served_around_counted_and_repaired(
    service: ServiceProcess, redis_server: RedisServer, figures: Figures
) -> None:
    settings = Settings()
    r = redis.Redis.from_url(redis_server.url)
    urls = steady_urls(len(CORRUPTIONS) + 1)
    reference = reference_bodies(service.url, urls)
    keys = {url: key_of(url) for url in urls}
    assert all(r.exists(k) for k in keys.values()), "key derivation differs from the service's"

    cases = dict(zip(CORRUPTIONS, urls, strict=False))
    for name, url in cases.items():
        r.delete(keys[url])
        CORRUPTIONS[name][0](r, keys[url])
    # a lock left behind without an expiry, on an entry that is missing
    stuck_url = urls[-1]
    r.delete(keys[stuck_url])
    r.set(keys[stuck_url] + ":lock", "foreign")

    before = cache_counts(service.url)
    first = {url: fetch(service.url, url) for url in urls}
    second = {url: fetch(service.url, url) for url in urls}
    counts = delta(cache_counts(service.url), before)

    repaired = []
    for url in cases.values():
        raw = r.get(keys[url]) if r.type(keys[url]) == b"string" else None
        assert raw is None or isinstance(raw, bytes)
        ttl = r.ttl(keys[url])
        entry = envelope.unpack(raw) if raw else None
        repaired.append(entry is not None and entry.body == reference[url] and ttl > 0)
    want = {op: sum(o == op for _, o in CORRUPTIONS.values()) for op in ("deserialize", "get")}
    stuck = first[stuck_url]
    figures.record(
        "04a-corrupt-values",
        scenario=f"{len(CORRUPTIONS)} kinds of corrupt or foreign values under cachewatch keys, "
        "and a lock key without expiry",
        load="1 request per key, then a second one",
        checked="right body every time; each counted (deserialize or get error); key repaired "
        "with a valid entry and an expiry; the stuck lock costs at most CACHE_LOCK_WAIT_SECONDS",
        result=(
            f"{sum(s.status == 200 and s.body == reference[u] for u, s in first.items())}"
            f"/{len(urls)} right answers; {counts['errors_deserialize']:.0f} deserialize + "
            f"{counts['errors_get']:.0f} get errors counted (expected {want['deserialize']} + "
            f"{want['get']}); {sum(repaired)}/{len(cases)} keys repaired; second requests "
            f"{sum(s.cache == 'HIT' for s in second.values())}/{len(urls)} hits; stuck lock: "
            f"{stuck.seconds * 1000:.0f} ms (lock wait {settings.lock_wait_seconds:g} s)"
        ),
        counts=counts,
        stuck_lock_ms=round(stuck.seconds * 1000, 1),
    )
    bad = {name: first[url].status for name, url in cases.items() if first[url].status != 200}
    assert not bad, bad
    assert not wrong_bodies(list(first.values()) + list(second.values()), reference)
    assert all(s.cache == "MISS" for s in first.values())
    assert counts["errors_deserialize"] == want["deserialize"], counts
    assert counts["errors_get"] == want["get"], counts
    assert all(repaired), dict(zip(cases, repaired, strict=True))
    assert all(s.cache == "HIT" for s in second.values())
    assert stuck.seconds <= settings.lock_wait_seconds + LATENCY_MARGIN


def test_redis_flushed_mid_load(
    service: ServiceProcess, redis_server: RedisServer, figures: Figures
) -> None:
    urls = steady_urls(40)
    reference = reference_bodies(service.url, urls)
    rate, seconds, flushes = 50, 9.0, (3.0, 6.0)
    before = cache_counts(service.url)
    load = Load(service.url, urls, rate, seconds).start()
    load.sleep_until(flushes[0])
    redis_server.cli("FLUSHALL")
    load.sleep_until(flushes[1])
    redis_server.cli("FLUSHALL", "ASYNC")
    samples = load.wait()
    counts = delta(cache_counts(service.url), before)
    whole = summary(samples)
    back = []
    for at in flushes:
        window = between(samples, at, at + 3.0)
        misses = [s.sent for s in window if s.cache == "MISS"]
        back.append(round(max(misses) - at, 2) if misses else None)
    keys = redis.Redis.from_url(redis_server.url).dbsize()
    figures.record(
        "04b-redis-flushed",
        scenario="FLUSHALL, then FLUSHALL ASYNC, under load",
        load=f"{rate} req/s × {seconds:g} s, 40 valuation keys",
        checked="no 5xx, right bodies; the refill counted as cold misses; all keys back",
        result=(
            f"{whole['requests']} requests, {whole['5xx']} × 5xx, "
            f"{len(wrong_bodies(samples, reference))} wrong bodies; "
            f"{whole['miss']} misses ({counts['misses_cold']:.0f} cold counted); "
            f"last miss {back[0]} s and {back[1]} s after each flush; {keys} keys at the end"
        ),
        counts=counts,
    )
    assert whole["2xx"] == whole["requests"], whole
    assert not wrong_bodies(samples, reference)
    assert counts["misses_cold"] == whole["miss"] >= 2 * len(urls), (counts, whole)
    assert counts["errors"] == 0 and counts["bypasses"] == 0, counts
    assert all(b is not None and b <= 2.0 for b in back), back
    assert keys == len(urls)
