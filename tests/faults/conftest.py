"""Fixtures for the fault suite: real Redis, the real service under gunicorn, real Prometheus.

Every server is on a free 127.0.0.1 port and is stopped when its test ends.
Each scenario records what it measured with the `figures` fixture
(tests/faults/figures.py), from which docs/reliability.md's table is made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.faults import figures as figures_module
from tests.faults.traffic import Load, Sample, cold_urls
from tests.support.procs import (
    REPO,
    ManagedProcess,
    PrometheusServer,
    RedisServer,
    ServiceProcess,
    wait_until,
)

#: What the RedisDown alert evaluates when monitoring/rules has no such alert.
DEFAULT_REDIS_DOWN = "cachewatch_redis_up == 0"
#: Slack added to every latency bound. The suite runs on a shared 2-core machine where
#: other work can delay any request by a few hundred milliseconds; what the bounds must
#: catch (a request waiting on a dead Redis or database: seconds, or forever) is larger.
LATENCY_MARGIN = 1.5


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> figures_module.Figures:
    return figures_module.Figures(request.node.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        figures_module.set_outcome(item.nodeid, "passed" if report.passed else "failed")


P = TypeVar("P", bound=ManagedProcess)


@contextlib.contextmanager
def running(proc: P) -> Iterator[P]:
    """Start `proc`; stop it and remove its folder afterwards (typed, unlike its `with`)."""
    proc.start()
    try:
        yield proc
    finally:
        proc.cleanup()


@pytest.fixture(autouse=True)
def _no_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    """These scenarios count Redis keys exactly, so the services they start sample nothing
    (the events stream would be one more key); the sampler under faults is tested in
    tests/service/test_sampling.py."""
    monkeypatch.setenv("CACHE_SAMPLE_RATE", "0")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running(RedisServer()) as server:
        yield server


# -- the service's /metrics ---------------------------------------------------------------
def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample at `url`/metrics as (name, labels, value)."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def total(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(
        v
        for n, lab, v in samples
        if n == name and all(lab.get(k) == want for k, want in labels.items())
    )


def cache_counts(url: str) -> dict[str, float]:
    """Hits, misses (by reason), bypasses (by reason) and errors (by operation), summed."""
    samples = scrape(url)
    out = {
        "hits": total(samples, "cachewatch_cache_hits_total"),
        "misses": total(samples, "cachewatch_cache_misses_total"),
        "bypasses": total(samples, "cachewatch_cache_bypass_total"),
        "errors": total(samples, "cachewatch_cache_errors_total"),
        "stale_served": total(samples, "cachewatch_cache_stale_served_total"),
        "backend_errors": total(samples, "cachewatch_backend_errors_total"),
    }
    for reason in ("cold", "expired"):
        out[f"misses_{reason}"] = total(samples, "cachewatch_cache_misses_total", reason=reason)
    for reason in ("circuit_open", "redis_error", "disabled"):
        out[f"bypass_{reason}"] = total(samples, "cachewatch_cache_bypass_total", reason=reason)
    for op in ("get", "set", "lock", "deserialize"):
        out[f"errors_{op}"] = total(samples, "cachewatch_cache_errors_total", operation=op)
    return out


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after}


# -- processes ------------------------------------------------------------------------------
def worker_pids(service: ServiceProcess) -> set[int]:
    """The gunicorn workers: the children of the master (the `cachewatch serve` process)."""
    assert service.proc is not None
    pid = service.proc.pid
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            children |= {int(c) for c in (task / "children").read_text().split()}
    return children


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


# -- Prometheus -----------------------------------------------------------------------------
def prometheus_config(target_port: int, interval: str = "1s") -> str:
    return yaml.safe_dump(
        {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "scrape_configs": [
                {
                    "job_name": "cachewatch",
                    "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}],
                }
            ],
        }
    )


@contextlib.contextmanager
def prometheus_scraping(service: ServiceProcess, tmp_path: Path) -> Iterator[PrometheusServer]:
    """A real Prometheus scraping `service` every second; yields once it holds a first scrape."""
    folder = tmp_path / "prometheus"
    folder.mkdir(exist_ok=True)
    prom = PrometheusServer(prometheus_config(service.port), config_dir=folder)
    with running(prom):
        wait_until(lambda: bool(prom.query('up{job="cachewatch"} == 1')), 20, "a first scrape")
        wait_until(lambda: bool(prom.query("cachewatch_redis_up")), 20, "cachewatch_redis_up")
        yield prom


def redis_down_expr() -> tuple[str, str]:
    """The RedisDown alert's expression and where it came from (the rules file, if any)."""
    for path in sorted((REPO / "monitoring" / "rules").glob("*.y*ml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if rule.get("alert") == "RedisDown":
                    return str(rule["expr"]), f"from {path.relative_to(REPO)}"
    return DEFAULT_REDIS_DOWN, f"`{DEFAULT_REDIS_DOWN}`: no RedisDown alert in monitoring/rules yet"


def true_during(prom: PrometheusServer, expr: str, start: float, end: float) -> bool:
    """Whether `expr` had a result at some 250 ms step between unix times `start` and `end`."""
    seconds = max(1, int(end - start))
    return bool(prom.query(f"count_over_time(({expr})[{seconds}s:250ms])", time_=end))


# -- the uncached path ----------------------------------------------------------------------
def uncached_baseline(service: ServiceProcess, rate: float, seconds: float) -> list[Sample]:
    """The same offered load, every request a cold miss: what a request costs without a cache."""
    samples = Load(service.url, cold_urls(int(rate * seconds)), rate, seconds).start().wait()
    assert {s.status for s in samples} == {200}, {s.status for s in samples}
    # a cold miss, or (a GET slower than the socket timeout on a busy machine) a bypass
    assert all(s.cache in ("MISS", "BYPASS") for s in samples)
    return samples


#: For scenarios whose subject is not Redis's latency: a 0.5 s socket timeout instead of the
#: rollout's 50 ms, so that a CPU-starved shared machine does not turn a slow GET into a bypass.
CALM_REDIS = {"REDIS_SOCKET_TIMEOUT": "0.5"}
