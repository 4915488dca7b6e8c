"""Redis alive but not answering (CLIENT PAUSE, then DEBUG SLEEP) under steady load.

A stalled Redis is worse than a dead one: connections succeed and replies never
come. Each request may wait at most the socket timeout once; after
`breaker_failures` such waits a worker's breaker opens and requests stop
asking Redis until its reset time has passed.

Load: 50 requests/s over 40 valuation queries for 17 s. `CLIENT PAUSE 3000 ALL`
at 2 s; `DEBUG SLEEP 3` (the whole server blocked) at 8 s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from service.config import Settings
from tests.faults.conftest import LATENCY_MARGIN, cache_counts, delta, running, uncached_baseline
from tests.faults.figures import Figures
from tests.faults.traffic import (
    Load,
    between,
    reference_bodies,
    steady_urls,
    summary,
    wrong_bodies,
)
from tests.support.procs import RedisServer, ServiceProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

RATE, SECONDS = 50, 17.0
PAUSE_AT, PAUSE_S, SLEEP_AT, SLEEP_S = 2.0, 3.0, 8.0, 3.0
URLS = steady_urls(40)
WORKERS = 2


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running(RedisServer("--enable-debug-command", "local")) as server:
        yield server


@pytest.fixture
def service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    with running(ServiceProcess(redis_server.url, workers=WORKERS)) as svc:
        yield svc


def test_stalled_redis_costs_each_request_at_most_one_socket_timeout(
    service: ServiceProcess, redis_server: RedisServer, figures: Figures
) -> None:
    settings = Settings()
    reference = reference_bodies(service.url, URLS)
    baseline = summary(uncached_baseline(service, RATE, 3.0))
    bound_ms = baseline["max_ms"] + 1000 * (
        settings.redis_socket_timeout + settings.redis_connect_timeout + LATENCY_MARGIN
    )

    before = cache_counts(service.url)
    load = Load(service.url, URLS, RATE, SECONDS).start()
    load.sleep_until(PAUSE_AT)
    redis_server.cli("CLIENT", "PAUSE", str(int(PAUSE_S * 1000)), "ALL")
    load.sleep_until(SLEEP_AT)
    sleeper = threading.Thread(target=redis_server.cli, args=("DEBUG", "SLEEP", str(SLEEP_S)))
    sleeper.start()
    samples = load.wait()
    sleeper.join(10)
    counts = delta(cache_counts(service.url), before)

    whole = summary(samples)
    paused = summary(between(samples, PAUSE_AT, PAUSE_AT + PAUSE_S))
    slept = summary(between(samples, SLEEP_AT, SLEEP_AT + SLEEP_S))
    after_sleep = [s.sent for s in samples if s.sent >= SLEEP_AT + SLEEP_S and s.cache == "HIT"]
    resumed_s = round(min(after_sleep) - (SLEEP_AT + SLEEP_S), 2) if after_sleep else None
    # per stall and worker: `failures` timeouts open the breaker, then one trial per reset period
    trials = int(max(PAUSE_S, SLEEP_S) // settings.breaker_reset_seconds) + 1
    max_timeouts = 2 * WORKERS * (settings.breaker_failures + trials)
    figures.record(
        "02-redis-stalled",
        scenario="Redis stalled: CLIENT PAUSE 3 s, then DEBUG SLEEP 3 s",
        load=f"{RATE} req/s × {SECONDS:g} s, 40 valuation keys; 2 gunicorn workers",
        checked=(
            "no 5xx, every body correct; each request ≤ uncached max + socket + connect timeout"
            f" + margin; requests that waited on Redis ≤ {max_timeouts} (breaker opens after "
            f"{settings.breaker_failures} timeouts per worker); hits resume by themselves"
        ),
        result=(
            f"{whole['requests']} requests, {whole['5xx']} × 5xx; max {whole['max_ms']} ms "
            f"(bound {bound_ms:.0f} ms; uncached max {baseline['max_ms']} ms); during PAUSE "
            f"p50 {paused['p50_ms']} ms, max {paused['max_ms']} ms; during DEBUG SLEEP p50 "
            f"{slept['p50_ms']} ms, max {slept['max_ms']} ms; {counts['bypass_redis_error']:.0f} "
            f"requests paid a timeout, {counts['bypass_circuit_open']:.0f} skipped Redis "
            f"(breaker open); hits back {resumed_s} s after the stall"
        ),
        baseline=baseline,
        paused=paused,
        slept=slept,
        counts=counts,
        resumed_s=resumed_s,
    )

    assert whole["5xx"] == 0 and whole["no_response"] == 0, whole
    assert not wrong_bodies(samples, reference), "a stalled connection served another key's reply"
    assert whole["max_ms"] <= bound_ms, (whole, baseline)
    assert counts["hits"] == whole["hit"] and counts["bypasses"] == whole["bypass"]
    assert counts["misses"] == whole["miss"]
    assert 0 < counts["bypass_redis_error"] <= max_timeouts, counts
    assert counts["bypass_circuit_open"] > 0, counts
    assert paused["bypass"] > 0 and slept["bypass"] > 0
    assert resumed_s is not None and resumed_s <= settings.breaker_reset_seconds + 2.0
    tail = between(samples, SECONDS - 1.0, SECONDS)
    # hits again (a GET can still time out now and then on a busy machine: 50 ms is tight)
    assert sum(s.cache == "HIT" for s in tail) >= 0.9 * len(tail), summary(tail)
