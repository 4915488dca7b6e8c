"""Send traffic: a few threads, one `requests.Session` each, paced to a target rate.

    summary = run("http://127.0.0.1:8000", rate=50, duration=10, keys=20, seed=1)
    print(summary.format())

A run ends at whichever comes first: `duration` seconds, `requests` requests
(not counting the two catalog requests made first), or `stop` being set. The
pacing is a shared schedule (request i is due at start + i / rate) that never
lets a backlog turn into a burst of more than a second's worth of requests.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import requests as http

from loadgen.catalog import Catalog, wait_ready
from loadgen.guard import check_target
from loadgen.summary import NO_RESPONSE, Result, Summary
from loadgen.traffic import Mix, Request, Traffic

#: How far behind schedule the pacing may fall before it forgets the missed slots.
_MAX_BACKLOG_SECONDS = 1.0


class _Schedule:
    """Hands out the next request and the time it is due, under one lock."""

    def __init__(
        self,
        traffic: Iterator[Request],
        rate: float | None,
        deadline: float,
        budget: int | None,
        stop: threading.Event,
    ) -> None:
        self._traffic = traffic
        self._interval = 1.0 / rate if rate else 0.0
        self._deadline = deadline
        self._budget = budget
        self._stop = stop
        self._lock = threading.Lock()
        self._next_at = time.monotonic()
        self.issued = 0

    def take(self) -> tuple[Request, float, int] | None:
        """The next request, when it is due, and its number; None when the run is over."""
        with self._lock:
            now = time.monotonic()
            if self._stop.is_set() or now >= self._deadline:
                return None
            if self._budget is not None and self.issued >= self._budget:
                return None
            due = max(self._next_at, now - _MAX_BACKLOG_SECONDS)
            if due >= self._deadline:
                return None
            self._next_at = due + self._interval
            self.issued += 1
            return next(self._traffic), due, self.issued


def _send(session: http.Session, base_url: str, req: Request, timeout: float) -> Result:
    start = time.perf_counter()
    try:
        response = session.get(base_url + req.path, params=req.params, timeout=timeout)
    except http.RequestException:
        return Result(req.endpoint, NO_RESPONSE, None, time.perf_counter() - start, req.key)
    latency = time.perf_counter() - start
    return Result(req.endpoint, response.status_code, response.headers.get("X-Cache"), latency,
                  req.key)  # fmt: skip


def run(
    base_url: str | Sequence[str],
    *,
    rate: float | None = 20.0,
    duration: float = 30.0,
    requests: int | None = None,
    concurrency: int = 4,
    mix: Mix | str | None = None,
    seed: int | None = None,
    keys: int | None = None,
    zipf: float = 1.2,
    queries: int = 1000,
    timeout: float = 10.0,
    wait: float = 0.0,
    allow_remote: bool = False,
    stop: threading.Event | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> Summary:
    """Send traffic to the service at `base_url` (several URLs: round robin); return the summary.

    `rate` is requests per second over all threads (None or 0: as fast as they go);
    `keys` switches to the fixed-keys pattern, `queries` sizes the pool of popular
    valuations and `zipf` is the popularity exponent (see loadgen.traffic); `wait` is how
    long to wait for /readyz first; `on_result` sees every result (progress bars).
    """
    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    if not urls:
        raise ValueError("no target URL")
    urls = [check_target(u, allow_remote) for u in urls]
    if not (duration > 0 and math.isfinite(duration)):
        raise ValueError("duration must be a positive number of seconds")
    if requests is not None and requests < 0:
        raise ValueError("requests must not be negative")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if rate is not None and rate < 0:
        raise ValueError("rate must not be negative")
    if isinstance(mix, str):
        mix = Mix.parse(mix)
    stop = stop or threading.Event()
    summary = Summary()

    def record(result: Result) -> None:
        summary.record(result)
        if on_result is not None:
            on_result(result)

    with http.Session() as session:
        if wait > 0:
            wait_ready(session, urls[0], wait)
        catalog = Catalog.fetch(session, urls[0], timeout, record)
    traffic = Traffic(catalog, mix, seed=seed, zipf=zipf, keys=keys, queries=queries)
    started = time.monotonic()
    schedule = _Schedule(iter(traffic), rate, started + duration, requests, stop)

    def worker() -> None:
        with http.Session() as session:
            while (taken := schedule.take()) is not None:
                req, due, number = taken
                delay = due - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
                record(_send(session, urls[number % len(urls)], req, timeout))

    threads = [
        threading.Thread(target=worker, name=f"loadgen-{i}", daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join(timeout + 1)
        raise
    finally:
        summary.elapsed = time.monotonic() - started
    return summary
