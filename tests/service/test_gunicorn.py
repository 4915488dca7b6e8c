"""The service as deployed: gunicorn with several workers, multiprocess metrics, Redis restarts."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.procs import RedisServer, ServiceProcess

pytestmark = pytest.mark.slow

URLS = [
    "/api/areas/buy",
    "/api/areas/rent",
    "/api/property-types/buy",
    "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=75",
    "/api/property/valuation?area=eastgate&property_type=detached&bedrooms=4&size_sqm=140&listing_type=rent",
]


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    with ServiceProcess(
        redis_server.url,
        workers=3,
        env={"CACHE_BREAKER_RESET_SECONDS": "0.5", "REDIS_SOCKET_TIMEOUT": "1"},
    ) as svc:
        yield svc  # type: ignore[misc]


def _get(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


def test_counts_from_every_worker_add_up_to_the_requests_sent(service: ServiceProcess) -> None:
    sent = [service.url + URLS[i % len(URLS)] for i in range(150)]
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(_get, sent))
    assert {r.status_code for r in responses} == {200}
    hits = sum(r.headers["X-Cache"] == "HIT" for r in responses)
    assert service.metric("cachewatch_cache_hits_total") == hits
    counted = sum(
        service.metric(name)
        for name in ("cachewatch_cache_hits_total", "cachewatch_cache_misses_total",
                     "cachewatch_cache_bypass_total")
    )  # fmt: skip
    assert counted == len(sent)
    assert service.metric("cachewatch_http_request_duration_seconds_count", status="2xx") >= len(
        sent
    )
    assert service.metric("cachewatch_cache_ttl_seconds", endpoint="valuation") == 300


def test_metrics_pass_promtool(service: ServiceProcess) -> None:
    _get(service.url + URLS[0])
    _get(service.url + URLS[0])
    text = requests.get(service.url + "/metrics", timeout=10).text
    assert "cachewatch_redis_memory_used_bytes" in text
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0 and check.stdout == "" and check.stderr == "", (
        check.stdout + check.stderr
    )


def test_redis_killed_and_restarted_mid_traffic(
    service: ServiceProcess, redis_server: RedisServer
) -> None:
    for url in URLS:
        _get(service.url + url)
    redis_server.kill()
    down = [_get(service.url + URLS[i % len(URLS)]) for i in range(30)]
    assert {r.status_code for r in down} == {200}
    assert all(r.headers["X-Cache"] == "BYPASS" for r in down)
    assert service.metric("cachewatch_cache_bypass_total") == 30
    assert service.metric("cachewatch_redis_up") == 0
    assert service.metric("cachewatch_cache_circuit_open") == 1

    redis_server.start()
    deadline = time.monotonic() + 20
    while _get(service.url + URLS[0]).headers["X-Cache"] != "HIT":
        assert time.monotonic() < deadline, "hits did not resume"
        time.sleep(0.1)
    assert _get(service.url + "/readyz").json()["redis"]["ok"]


def test_readyz_names_a_wrong_password() -> None:
    with (
        RedisServer(password="right-password") as redis_server,
        ServiceProcess(
            f"redis://:wrong-password@127.0.0.1:{redis_server.port}/0", workers=1
        ) as svc,
    ):
        response = _get(svc.url + URLS[0])
        assert (response.status_code, response.headers["X-Cache"]) == (200, "BYPASS")
        ready = _get(svc.url + "/readyz").json()
        assert ready["status"] == "degraded"
        assert "Authentication" in ready["redis"]["error"] or "WRONGPASS" in ready["redis"]["error"]
