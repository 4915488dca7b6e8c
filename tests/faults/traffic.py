"""Bounded, open-loop HTTP traffic to 127.0.0.1, every response recorded.

    load = Load(service.url, steady_urls(40), rate=50, seconds=10).start()
    load.sleep_until(3.0); redis_server.kill()      # a fault at t = 3 s into the load
    samples = load.wait()
    summary(samples)["max_ms"]

Requests are sent at fixed times (i / rate), whatever the service's speed, so a
slow service meets the same offered load as a fast one (no coordinated
omission). Each sample keeps its status, `X-Cache`, whether the body was JSON
and the body itself, so a test can check every response, not just counts.
"""

from __future__ import annotations

import dataclasses
import statistics
import threading
import time
from collections.abc import Callable, Sequence

import orjson
import requests

#: Popular areas (the seed's first ones) and common types: queries with enough comparables.
AREAS = tuple(f"north{s}" for s in ("field", "gate", "bury", "wood", "ham", "ford")) + tuple(
    f"south{s}" for s in ("field", "gate", "bury", "wood", "ham", "ford")
)
TYPES = ("flat", "terraced", "semi-detached", "detached")
_COMBOS = len(AREAS) * len(TYPES) * 4
VALUATION = (
    "/api/property/valuation?area={area}&property_type={ptype}&bedrooms={bedrooms}&size_sqm={size}"
)


def valuation_url(i: int) -> str:
    """The i-th valuation query: distinct canonical parameters for i < 192 × 40.

    Every i cycles through the same 192 (area, type, bedrooms) combinations, so
    steady and cold queries cost the database alike; i // 192 shifts the size.
    """
    area = AREAS[i % len(AREAS)]
    ptype = TYPES[(i // len(AREAS)) % len(TYPES)]
    bedrooms = 1 + (i // (len(AREAS) * len(TYPES))) % 4
    size = 40 + 20 * bedrooms + (i // _COMBOS) % 40
    return VALUATION.format(area=area, ptype=ptype, bedrooms=bedrooms, size=size)


def steady_urls(n: int) -> list[str]:
    """`n` (≤ 192) valuation queries that a steady load cycles through (they become hits)."""
    assert n <= _COMBOS
    return [valuation_url(i) for i in range(n)]


def cold_urls(n: int, offset: int = 0) -> list[str]:
    """`n` valuation queries no steady load asks: each is a cold miss, the uncached path."""
    return [valuation_url(_COMBOS + offset + i) for i in range(n)]


@dataclasses.dataclass
class Sample:
    url: str
    sent: float  # seconds since the load started
    seconds: float
    status: int  # 0: no HTTP response at all (connection refused or reset)
    cache: str  # X-Cache, "" when absent
    is_json: bool
    body: bytes
    error: str = ""
    stale: bool = False  # X-Cache-Stale: 1, a stale entry served because the database failed


def fetch(base: str, url: str, session: requests.Session | None = None) -> Sample:
    """One GET, recorded as a Sample (a connection failure is status 0, not an exception)."""
    start = time.perf_counter()
    try:
        r = (session or requests).get(base + url, timeout=10)
    except requests.RequestException as exc:
        return Sample(url, 0.0, time.perf_counter() - start, 0, "", False, b"", type(exc).__name__)
    elapsed = time.perf_counter() - start
    return Sample(
        url,
        0.0,
        elapsed,
        r.status_code,
        r.headers.get("X-Cache", ""),
        _is_json(r),
        r.content,
        stale=r.headers.get("X-Cache-Stale") == "1",
    )


def _is_json(r: requests.Response) -> bool:
    if not r.headers.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        orjson.loads(r.content)
    except orjson.JSONDecodeError:
        return False
    return True


class Load:
    """`rate` requests per second for `seconds`, cycling through `urls`, from `threads` threads."""

    def __init__(
        self,
        base: str,
        urls: Sequence[str] | Callable[[int], str],
        rate: float,
        seconds: float,
        threads: int = 16,
    ) -> None:
        self.base = base
        self.url_for = urls if callable(urls) else (lambda i: urls[i % len(urls)])
        self.rate = rate
        self.total = int(rate * seconds)
        self.threads = threads
        self.samples: list[Sample] = []
        self._next = 0
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self.t0 = 0.0

    def start(self) -> Load:
        self.t0 = time.monotonic()
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, name=f"load-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.t0

    def sleep_until(self, t: float) -> None:
        """Block the caller until `t` seconds into the load (to inject a fault at a known time)."""
        time.sleep(max(0.0, t - self.now()))

    def _run(self) -> None:
        session = requests.Session()
        while True:
            with self._lock:
                i = self._next
                self._next += 1
            if i >= self.total:
                return
            due = i / self.rate
            self.sleep_until(due)
            sample = fetch(self.base, self.url_for(i), session)
            sample.sent = due
            with self._lock:
                self.samples.append(sample)

    def wait(self, timeout: float = 60.0) -> list[Sample]:
        for worker in self._workers:
            worker.join(timeout)
        return sorted(self.samples, key=lambda s: s.sent)


def between(samples: Sequence[Sample], start: float, end: float) -> list[Sample]:
    return [s for s in samples if start <= s.sent < end]


def summary(samples: Sequence[Sample]) -> dict[str, float | int]:
    """Counts by status class and cache result, and latency figures in milliseconds."""
    ms = sorted(s.seconds * 1000 for s in samples) or [0.0]
    out: dict[str, float | int] = {
        "requests": len(samples),
        "2xx": sum(200 <= s.status < 300 for s in samples),
        "4xx": sum(400 <= s.status < 500 for s in samples),
        "5xx": sum(s.status >= 500 for s in samples),
        "no_response": sum(s.status == 0 for s in samples),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        "max_ms": round(ms[-1], 1),
    }
    for result in ("HIT", "MISS", "BYPASS"):
        out[result.lower()] = sum(s.cache == result for s in samples)
    return out


def reference_bodies(base: str, urls: Sequence[str]) -> dict[str, bytes]:
    """Each URL's correct body, fetched while everything is healthy."""
    bodies = {}
    for url in dict.fromkeys(urls):
        sample = fetch(base, url)
        assert sample.status == 200, (url, sample.status, sample.body[:200])
        bodies[url] = sample.body
    return bodies


def wrong_bodies(samples: Sequence[Sample], reference: dict[str, bytes]) -> list[Sample]:
    """The 200s whose body is not the URL's reference body (a cache serving the wrong entry)."""
    return [s for s in samples if s.status == 200 and s.body != reference.get(s.url)]
