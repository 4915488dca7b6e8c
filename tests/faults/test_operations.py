"""What an operator paged at 3 a.m. would want proven: the parts around the service failing.

- Prometheus killed and restarted under traffic: the service does not notice; scraping resumes.
- A gunicorn worker killed with SIGKILL under traffic: it is replaced, at most the request it
  was serving is lost, and the dead worker's counters still count.

The Dash dashboard's "Prometheus down" banner belongs to the dashboard's own tests.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import (
    CALM_REDIS,
    LATENCY_MARGIN,
    cache_counts,
    delta,
    prometheus_scraping,
    running,
    worker_pids,
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
from tests.support.procs import RedisServer, ServiceProcess, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

URLS = steady_urls(40)


@pytest.fixture
def service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    with running(ServiceProcess(redis_server.url, env=CALM_REDIS)) as svc:
        yield svc


def test_prometheus_killed_and_restarted_under_traffic(
    service: ServiceProcess, tmp_path: Path, figures: Figures
) -> None:
    rate, seconds, kill_at, start_at = 50, 12.0, 3.0, 7.0
    reference = reference_bodies(service.url, URLS)
    with prometheus_scraping(service, tmp_path) as prom:
        before = cache_counts(service.url)
        load = Load(service.url, URLS, rate, seconds).start()
        load.sleep_until(kill_at)
        hits_before_kill = prom.query("sum(cachewatch_cache_hits_total)")
        prom.kill()  # SIGKILL: a crash, not a shutdown
        load.sleep_until(start_at)
        restarted_wall = time.time()
        prom.start()  # same port, same data folder
        samples = load.wait()
        counts = delta(cache_counts(service.url), before)
        wait_until(
            lambda: (
                float(prom.query('timestamp(up{job="cachewatch"})')[0]["value"][1]) > restarted_wall
            ),
            15,
            "a scrape after the restart",
        )
        up = float(prom.query('up{job="cachewatch"}')[0]["value"][1])
        hits_after = float(prom.query("sum(cachewatch_cache_hits_total)")[0]["value"][1])
        kept = prom.query("sum(cachewatch_cache_hits_total)", time_=restarted_wall - 5.0)

    first = summary(between(samples, 0.0, kill_at))
    down = summary(between(samples, kill_at, start_at))
    whole = summary(samples)
    before_kill = float(hits_before_kill[0]["value"][1]) if hits_before_kill else 0.0
    figures.record(
        "09a-prometheus-restarted",
        scenario="Prometheus killed (SIGKILL) under traffic, restarted 4 s later",
        load=f"{rate} req/s × {seconds:g} s, 40 cached valuation keys",
        checked=(
            "no failed request, right bodies, all hits; latency while Prometheus is down ≤ "
            "before + 1 s; scraping resumes (up = 1, a fresh sample); the counters continue"
        ),
        result=(
            f"{whole['requests']} requests, {whole['5xx']} × 5xx, {whole['no_response']} failed;"
            f" p50/max before {first['p50_ms']}/{first['max_ms']} ms, while down "
            f"{down['p50_ms']}/{down['max_ms']} ms; up = {up:g} after the restart; hits total "
            f"{before_kill:.0f} before the kill → {hits_after:.0f} after; data from before "
            f"the kill kept: {bool(kept)}"
        ),
        before=first,
        down=down,
    )
    assert whole["2xx"] == whole["requests"] and not wrong_bodies(samples, reference), whole
    assert whole["hit"] == whole["requests"] == counts["hits"], (whole, counts)
    assert down["max_ms"] <= first["max_ms"] + 1000 * LATENCY_MARGIN, (first, down)
    assert up == 1
    assert hits_after > before_kill


def test_worker_killed_is_replaced_and_its_counts_survive(
    service: ServiceProcess, figures: Figures
) -> None:
    rate, seconds, kill_at = 40, 8.0, 3.0
    reference = reference_bodies(service.url, URLS)
    before = cache_counts(service.url)
    workers = worker_pids(service)
    assert len(workers) == 2
    load = Load(service.url, URLS, rate, seconds).start()
    load.sleep_until(kill_at)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(
        lambda: len(worker_pids(service)) == 2 and victim not in worker_pids(service),
        10,
        "gunicorn to replace the killed worker",
    )
    replaced_s = round(time.monotonic() - killed, 2)
    samples = load.wait()
    counts = delta(cache_counts(service.url), before)
    whole = summary(samples)
    answered = whole["2xx"]
    counted = counts["hits"] + counts["misses"] + counts["bypasses"]
    failed = [s for s in samples if s.status != 200]
    figures.record(
        "09b-worker-killed",
        scenario="A gunicorn worker killed with SIGKILL under traffic",
        load=f"{rate} req/s × {seconds:g} s, 40 cached valuation keys; 2 workers",
        checked=(
            "replaced by gunicorn; at most the one request in flight on it lost; every answered "
            "request still counted at /metrics (the dead worker's counters kept)"
        ),
        result=(
            f"replaced in {replaced_s} s; {whole['requests']} requests, {answered} answered, "
            f"{len(failed)} lost ({', '.join(s.error or str(s.status) for s in failed) or '-'});"
            f" {counted:.0f} counted at /metrics"
        ),
        replaced_s=replaced_s,
        lost=len(failed),
        counted=counted,
    )
    assert len(failed) <= 1, failed
    assert not wrong_bodies(samples, reference)
    assert answered <= counted <= answered + len(failed), (answered, counted)
