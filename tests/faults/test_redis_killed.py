"""Redis killed under steady load, then restarted: the users notice nothing, the operators do.

Load: 50 requests/s over 40 valuation queries for 18 s (a shorter bounded
window than the rollout's 100/s × 30 s, to keep the suite under its time
budget on a shared 2-core machine). Redis is SIGKILLed at 3 s and restarted,
empty, at 9 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import Settings
from tests.faults.conftest import (
    LATENCY_MARGIN,
    cache_counts,
    delta,
    prometheus_scraping,
    redis_down_expr,
    running,
    true_during,
    uncached_baseline,
)
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

RATE, SECONDS, KILL_AT, RESTART_AT = 50, 18.0, 3.0, 9.0
URLS = steady_urls(40)


@pytest.fixture
def service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    # the rollout's defaults: 2 workers, breaker opening after 3 failures for 5 s
    with running(ServiceProcess(redis_server.url)) as svc:
        yield svc


def test_redis_killed_during_steady_load_then_restarted(
    service: ServiceProcess, redis_server: RedisServer, tmp_path: Path, figures: Figures
) -> None:
    settings = Settings()
    reference = reference_bodies(service.url, URLS)  # also warms the 40 entries
    baseline = summary(uncached_baseline(service, RATE, 3.0))
    bound_ms = baseline["max_ms"] + 1000 * (
        settings.redis_socket_timeout + settings.redis_connect_timeout + LATENCY_MARGIN
    )
    expr, expr_source = redis_down_expr()

    with prometheus_scraping(service, tmp_path) as prom:
        before = cache_counts(service.url)
        load = Load(service.url, URLS, RATE, SECONDS).start()
        wall0 = time.time() - load.now()
        load.sleep_until(KILL_AT)
        redis_server.kill()
        load.sleep_until(RESTART_AT)
        redis_server.start()  # same port, empty: every key is cold again
        samples = load.wait()
        counts = delta(cache_counts(service.url), before)
        alert_before = true_during(prom, expr, wall0, wall0 + KILL_AT)
        alert_during = true_during(prom, expr, wall0 + KILL_AT, wall0 + RESTART_AT)
        up_after = prom.query("cachewatch_redis_up == 1")
        circuit_during = prom.query(
            f"max_over_time(cachewatch_cache_circuit_open[{int(RESTART_AT - KILL_AT)}s])",
            time_=wall0 + RESTART_AT,
        )

    whole = summary(samples)
    down = summary(between(samples, KILL_AT, RESTART_AT))
    first_hit = min(
        (s.sent for s in samples if s.sent >= RESTART_AT and s.cache == "HIT"), default=None
    )
    resumed_s = None if first_hit is None else round(first_hit - RESTART_AT, 2)
    tail = between(samples, SECONDS - 1.0, SECONDS)
    figures.record(
        "01-redis-killed",
        scenario="Redis killed (SIGKILL) under load, restarted empty 6 s later",
        load=f"{RATE} req/s × {SECONDS:g} s, 40 valuation keys; 2 gunicorn workers",
        checked=(
            "no 5xx, every body correct; each request ≤ uncached max + socket + connect "
            "timeout + margin; hits+misses+bypasses = requests; cachewatch_redis_up 0 and the "
            f"RedisDown expr ({expr_source}) true while down; hits resume by themselves"
        ),
        result=(
            f"{whole['requests']} requests, {whole['5xx']} × 5xx, {whole['no_response']} failed; "
            f"max {whole['max_ms']} ms (bound {bound_ms:.0f} ms; uncached max "
            f"{baseline['max_ms']} ms); while down p50 {down['p50_ms']} ms, "
            f"{down['bypass']}/{down['requests']} bypassed; {whole['bypass']} BYPASS answers, "
            f"{counts['bypasses']:.0f} bypasses counted; alert expr true "
            f"while down: {alert_during}; hits back {resumed_s} s after restart, "
            f"{counts['misses_cold']:.0f} cold misses counted"
        ),
        requests=whole["requests"],
        max_ms=whole["max_ms"],
        bound_ms=round(bound_ms, 1),
        baseline=baseline,
        down=down,
        counts=counts,
        resumed_s=resumed_s,
        slowest_sent_at_s=max(samples, key=lambda s: s.seconds).sent,
    )

    assert whole["5xx"] == 0 and whole["no_response"] == 0, whole
    assert whole["2xx"] == whole["requests"] == int(RATE * SECONDS)
    assert not wrong_bodies(samples, reference)
    assert whole["max_ms"] <= bound_ms, (whole, baseline)
    # every request counted once, as what its X-Cache header said
    assert counts["hits"] == whole["hit"]
    assert counts["misses"] == whole["miss"]
    assert counts["bypasses"] == whole["bypass"]
    assert down["bypass"] >= 0.9 * down["requests"], down  # Redis down: the cache is bypassed
    assert counts["bypass_circuit_open"] > 0 and counts["bypass_redis_error"] > 0
    # the operators see it
    assert not alert_before, "RedisDown was true before Redis was killed"
    assert alert_during, f"RedisDown ({expr}) never true while Redis was down"
    assert circuit_during and float(circuit_during[0]["value"][1]) == 1
    assert up_after, "cachewatch_redis_up did not return to 1"
    # recovery: by itself, within the breaker's reset time (plus slack), cold misses counted
    assert resumed_s is not None and resumed_s <= settings.breaker_reset_seconds + 2.0
    assert counts["misses_cold"] >= len(URLS)
    # hits again (a GET can still time out now and then on a busy machine: 50 ms is tight)
    assert sum(s.cache == "HIT" for s in tail) >= 0.9 * len(tail), summary(tail)
