"""Redis out of memory: with `allkeys-lru` it evicts, with `noeviction` it refuses writes.

Either way the users get their answers (200, correct JSON); the operators see
`cachewatch_redis_evicted_keys_total` rise, or `cachewatch_cache_errors_total
{operation="set"}` count every refused write, and the breaker stays closed
(a full Redis is up: refusing a write is an answer, not a failure).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.faults.conftest import CALM_REDIS, cache_counts, delta, running, scrape, total
from tests.faults.figures import Figures
from tests.faults.traffic import Load, cold_urls, reference_bodies, steady_urls, summary
from tests.support.procs import RedisServer, ServiceProcess, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

LISTS = ["/api/areas/buy", "/api/areas/rent", "/api/property-types/buy", "/api/property-types/rent"]


@pytest.fixture
def service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    with running(ServiceProcess(redis_server.url, env=CALM_REDIS)) as svc:
        yield svc


def _client(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def test_full_redis_with_allkeys_lru_evicts_and_serves(
    service: ServiceProcess, redis_server: RedisServer, figures: Figures
) -> None:
    r = _client(redis_server)
    reference_bodies(service.url, steady_urls(20))  # the workers' connections now exist
    limit = int(r.info("memory")["used_memory"]) + 2 * 1024 * 1024
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory", limit)
    with r.pipeline(transaction=False) as pipe:  # older data fills it: Redis is full
        for i in range(3000):
            pipe.set(f"other-app:{i}", b"x" * 1000)
        pipe.execute()
    evicted_before = int(r.info("stats")["evicted_keys"])
    urls = LISTS + cold_urls(200)
    before = cache_counts(service.url)
    samples = Load(service.url, urls, rate=80, seconds=len(urls) / 80).start().wait()
    recent = urls[-20:]
    again = [s for s in Load(service.url, recent, rate=80, seconds=0.25).start().wait()]
    counts = delta(cache_counts(service.url), before)
    wait_until(
        lambda: total(scrape(service.url), "cachewatch_redis_evicted_keys_total") > 0,
        10,
        "evictions to show at /metrics",
    )
    evicted = total(scrape(service.url), "cachewatch_redis_evicted_keys_total")
    evicted_during = int(r.info("stats")["evicted_keys"]) - evicted_before
    refused = int(r.info("errorstats").get("errorstat_OOM", {}).get("count", 0))
    cached_keys = sum(1 for _ in r.scan_iter("cachewatch:*"))
    used, keys = int(r.info("memory")["used_memory"]), r.dbsize()
    whole = summary(samples + again)
    figures.record(
        "03a-redis-full-lru",
        scenario="Redis full, maxmemory-policy allkeys-lru (2 MiB filled by older keys)",
        load=f"{len(urls)} distinct queries (4 lists of ~20 KB, 200 valuations) at 80 req/s",
        checked=(
            "all 200 with JSON; evictions visible as cachewatch_redis_evicted_keys_total; "
            "no cache error counted; recent keys still hit"
        ),
        result=(
            f"{whole['2xx']}/{whole['requests']} × 200, {whole['5xx']} × 5xx; "
            f"{evicted:.0f} keys evicted in all at /metrics, {evicted_during} while the "
            f"service wrote; {refused} writes refused by Redis (OOM), {counts['errors']:.0f} cache"
            f" errors; {cached_keys} cachewatch keys "
            f"of {keys} in {used // 1024} KiB (limit {limit // 1024} KiB); "
            f"{summary(again)['hit']}/20 recent keys hit"
        ),
        evicted=evicted,
        evicted_during=evicted_during,
        refused=refused,
        counts=counts,
        used=used,
        limit=limit,
    )
    assert whole["2xx"] == whole["requests"], whole
    assert all(s.is_json for s in samples)
    assert evicted > 0 and evicted_during > 0
    assert cached_keys >= len(urls) - 4  # the service's new entries are what LRU keeps
    assert refused == 0 and counts["errors"] == 0, (refused, counts)
    assert counts["bypasses"] == 0
    assert summary(again)["hit"] >= 10, summary(again)


def test_full_redis_with_noeviction_refuses_writes_and_serves(
    service: ServiceProcess, redis_server: RedisServer, figures: Figures
) -> None:
    warm = steady_urls(10)
    reference = reference_bodies(service.url, warm)
    r = _client(redis_server)
    keys_before = r.dbsize()
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", int(r.info("memory")["used_memory"]) // 2)  # already over it
    cold = cold_urls(60)
    before = cache_counts(service.url)
    samples = Load(service.url, warm + cold + cold, rate=60, seconds=130 / 60).start().wait()
    counts = delta(cache_counts(service.url), before)
    ready = service_ready(service)
    whole = summary(samples)
    figures.record(
        "03b-redis-full-noeviction",
        scenario="Redis full, maxmemory-policy noeviction (maxmemory below used memory)",
        load="10 cached + 60 new queries, the new ones twice: 130 requests at 60 req/s",
        checked=(
            'all 200; every refused write counted in cachewatch_cache_errors_total{operation="set"}'
            "; cached entries still hit; breaker stays closed; no key added"
        ),
        result=(
            f"{whole['2xx']}/{whole['requests']} × 200; {whole['miss']} misses, "
            f"{counts['errors_set']:.0f} set errors and {counts['errors_lock']:.0f} lock errors "
            f"counted; {whole['hit']} hits; {counts['bypasses']:.0f} bypasses; keys "
            f"{keys_before} → {r.dbsize()}; /readyz redis ok: {ready}"
        ),
        counts=counts,
    )
    assert whole["2xx"] == whole["requests"], whole
    assert all(s.body == reference[s.url] for s in samples if s.url in reference)
    assert whole["hit"] == 10 and whole["miss"] == 120, whole
    assert counts["errors_set"] == whole["miss"], counts
    assert counts["bypasses"] == 0 and counts["bypass_circuit_open"] == 0
    assert r.dbsize() == keys_before
    assert ready


def service_ready(service: ServiceProcess) -> bool:
    import requests

    return bool(requests.get(f"{service.url}/readyz", timeout=10).json()["redis"]["ok"])
