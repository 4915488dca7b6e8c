"""Starting without a usable Redis: the service starts, serves uncached, and says what is wrong.

Three ways Redis can be wrong at start-up: a wrong password, nothing listening
on its port (and Redis coming up later), and a port that accepts connections
but never answers (a hung server or a black-holing proxy; on 127.0.0.1).
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from service.config import Settings
from tests.faults.conftest import LATENCY_MARGIN, running, scrape, total
from tests.faults.figures import Figures
from tests.faults.traffic import fetch, steady_urls, summary
from tests.support.procs import RedisServer, ServiceProcess, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

PASSWORD = "the-right-password-4711"
WRONG = "a-wrong-password-0815"
URLS = steady_urls(10)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A 127.0.0.1 port that accepts TCP connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@dataclasses.dataclass
class Outcome:
    summary: dict[str, float | int]
    all_bypass: bool
    ready_status: int
    ready: dict[str, Any]
    redis_up: float
    leaked: list[str]
    hit_after_redis_came: float | None = None

    def line(self, name: str) -> str:
        error = str(self.ready["redis"].get("error", ""))[:60]
        return (
            f"{name}: {self.summary['2xx']}/20 × 200 BYPASS, max {self.summary['max_ms']} ms, "
            f"/readyz {self.ready_status} {self.ready['status']} “{error}”"
        )


def _check_degraded(svc: ServiceProcess, secrets: tuple[str, ...]) -> Outcome:
    samples = [fetch(svc.url, u) for u in URLS + URLS]
    ready = requests.get(f"{svc.url}/readyz", timeout=10)
    metrics_text = requests.get(f"{svc.url}/metrics", timeout=10).text
    leaked = [s for s in secrets if s in ready.text or s in metrics_text or s in svc.log()]
    return Outcome(
        summary=summary(samples),
        all_bypass=all(s.status == 200 and s.cache == "BYPASS" for s in samples),
        ready_status=ready.status_code,
        ready=ready.json(),
        redis_up=total(scrape(svc.url), "cachewatch_redis_up"),
        leaked=leaked,
    )


def test_service_starts_and_serves_without_a_usable_redis(
    silent_port: int, figures: Figures
) -> None:
    settings = Settings()
    bound_ms = 1000 * (settings.redis_socket_timeout + settings.redis_connect_timeout)
    bound_ms += 1000 * LATENCY_MARGIN
    closed_port = free_port()
    cases = {
        "wrong password": f"redis://:{WRONG}@127.0.0.1:{{redis_port}}/0",
        "nothing listening": f"redis://127.0.0.1:{closed_port}/0",
        "never answers": f"redis://127.0.0.1:{silent_port}/0",
    }
    expected_error = {
        "wrong password": ("WRONGPASS", "Authentication", "invalid username-password"),
        "nothing listening": ("Connection refused", "Error 111", "ConnectionError"),
        "never answers": ("Timeout",),
    }
    results: dict[str, Outcome] = {}
    with running(RedisServer(password=PASSWORD)) as redis_server:
        for name, url in cases.items():
            url = url.format(redis_port=redis_server.port)
            with running(ServiceProcess(url, workers=1)) as svc:
                results[name] = _check_degraded(svc, (WRONG, PASSWORD))
                if name == "nothing listening":  # Redis comes up after the service
                    late = RedisServer()
                    late.port = closed_port
                    with running(late):
                        results[name].hit_after_redis_came = _first_hit_within(
                            svc, settings.breaker_reset_seconds + 2.0
                        )

    figures.record(
        "06-startup-without-redis",
        scenario="Service started with a wrong Redis password / nothing on the port / a port "
        "that never answers",
        load="20 requests each, one at a time; 1 worker",
        checked=(
            "starts; every request 200 BYPASS within socket + connect timeout + 1 s; /readyz 200 "
            "`degraded` naming the problem; cachewatch_redis_up 0; no password in /readyz, "
            "/metrics or the log; hits once Redis appears"
        ),
        result="; ".join(r.line(n) for n, r in results.items())
        + f"; hits {results['nothing listening'].hit_after_redis_came} s after Redis appeared",
        results={n: dataclasses.asdict(r) for n, r in results.items()},
    )
    for name, r in results.items():
        assert r.all_bypass, (name, r.summary)
        assert r.summary["max_ms"] <= bound_ms, (name, r.summary)
        assert r.ready_status == 200 and r.ready["status"] == "degraded", (name, r.ready)
        assert r.ready["database"]["ok"] and not r.ready["redis"]["ok"]
        assert any(e in r.ready["redis"]["error"] for e in expected_error[name]), (name, r.ready)
        assert r.redis_up == 0, name
        assert not r.leaked, (name, "a Redis password was shown")
    assert results["nothing listening"].hit_after_redis_came is not None


def _first_hit_within(svc: ServiceProcess, seconds: float) -> float | None:
    """Seconds until a request is a cache hit again, polling every 100 ms (None: never)."""
    import time

    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if fetch(svc.url, URLS[0]).cache == "HIT":
            return round(time.monotonic() - start, 2)
        time.sleep(0.1)
    return None
