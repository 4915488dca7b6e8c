"""`loadgen.run` against the real service: what it sends, what it counts, and its bounds."""

from __future__ import annotations

import threading
import time

import pytest

import loadgen
from tests.support.procs import ServiceProcess, free_port

COUNTERS = ("cachewatch_cache_hits_total", "cachewatch_cache_misses_total")


def _counts(service: ServiceProcess) -> tuple[float, float]:
    hits, misses = (service.metric(name) for name in COUNTERS)
    return hits, misses


def test_key_pattern_on_a_cold_cache_misses_once_per_key(service: ServiceProcess) -> None:
    before = _counts(service)
    summary = loadgen.run(service.url, rate=None, requests=120, concurrency=1, keys=20, seed=4)
    after = _counts(service)
    # 120 requests plus the two catalog requests, all answered.
    assert summary.requests == 122 and summary.statuses[200] == 122
    assert summary.distinct_keys in (20, 21, 22)  # the catalog's two keys may be among the 20
    assert summary.cache["MISS"] == summary.distinct_keys
    assert summary.hit_ratio == 1 - summary.distinct_keys / 122
    # The service counted exactly what the X-Cache headers said.
    assert (after[0] - before[0], after[1] - before[1]) == (summary.cache["HIT"],
                                                           summary.cache["MISS"])  # fmt: skip


def test_a_warm_cache_gives_only_hits(service: ServiceProcess) -> None:
    loadgen.run(service.url, rate=None, requests=30, concurrency=2, keys=10, seed=8)
    again = loadgen.run(service.url, rate=None, requests=30, concurrency=3, keys=10, seed=8)
    assert again.cache["HIT"] == again.requests and again.hit_ratio == 1.0


def test_the_rate_and_duration_bound_the_run(service: ServiceProcess) -> None:
    summary = loadgen.run(service.url, rate=10, duration=1.0, concurrency=2, seed=1)
    # A paced run sends at most rate x duration (+1 for the slot at 0), plus the catalog's 2.
    assert 2 < summary.requests <= 10 * 1.0 + 1 + 2
    assert summary.elapsed < 1.0 + 1.0


def test_stop_ends_the_run(service: ServiceProcess) -> None:
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    summary = loadgen.run(service.url, rate=5, duration=60, stop=stop, seed=2)
    assert time.monotonic() - started < 5
    assert summary.requests <= 5 * 0.5 + 1 + 2


def test_remote_targets_are_refused_before_any_request() -> None:
    with pytest.raises(loadgen.RemoteTarget):
        loadgen.run("http://192.0.2.1:8000", requests=1)


def test_a_service_that_is_not_there_is_reported() -> None:
    with pytest.raises(loadgen.ServiceUnavailable, match="did not answer"):
        loadgen.run(f"http://127.0.0.1:{free_port()}", requests=1, timeout=2)
    with pytest.raises(loadgen.ServiceUnavailable, match="not ready within"):
        loadgen.run(f"http://127.0.0.1:{free_port()}", requests=1, wait=0.6)
