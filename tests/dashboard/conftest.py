"""Fixtures for the dashboard tests: a real Prometheus holding known data, the app, a browser.

- `rollout_prometheus` (session): Prometheus on a free port whose TSDB was backfilled
  with `scenarios.rollout(t0)` by promtool; `rollout_t0` is that t0.
- `dashboard_server(prometheus_url)`: the app under gunicorn (`python -m dashboard`).
- `browser` (session): headless Chromium from Debian's package, driven by Playwright.
- `ttl_reviews` / `ttl_review_once` (session): folders holding two weekly TTL reviews /
  one, made by ttlreview from seeded synthetic traffic (`write_weekly_reviews`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pytest
import requests

from dashboard.prom import PromClient
from tests.dashboard.scenarios import rollout
from tests.dashboard.synthetic import backfill
from tests.support.procs import REPO, ManagedProcess, PrometheusServer, free_port
from ttlreview.events import sample_events
from ttlreview.review import Review
from ttlreview.review import run as run_review
from ttlreview.synthetic import zipf_events

PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 15s
  evaluation_interval: 15s
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def backfilled_prometheus(scenario_dir: Path, write: Callable[[Path], None]) -> PrometheusServer:
    """A started Prometheus whose data dir `write(data_dir)` filled first."""
    prom = PrometheusServer(PROMETHEUS_CONFIG, config_dir=scenario_dir)
    write(prom.dir / "data")
    prom.start()
    return prom


@pytest.fixture(scope="session")
def rollout_t0() -> int:
    return int(time.time()) // 15 * 15


@pytest.fixture(scope="session")
def rollout_prometheus(
    tmp_path_factory: pytest.TempPathFactory, rollout_t0: int
) -> Iterator[PrometheusServer]:
    prom = backfilled_prometheus(
        tmp_path_factory.mktemp("prometheus-config"),
        lambda data: backfill(rollout(rollout_t0), data),
    )
    try:
        yield prom
    finally:
        prom.cleanup()


@pytest.fixture
def client(rollout_prometheus: PrometheusServer) -> Iterator[PromClient]:
    client = PromClient(rollout_prometheus.url, timeout=10)
    yield client
    client.close()


class SentClient(PromClient):
    """A real client that also keeps every query it sent (`sent`), and the range
    queries, the charts' data (`ranges`), to check which were."""

    def __init__(self, url: str) -> None:
        super().__init__(url, timeout=10)
        self.sent: list[str] = []
        self.ranges: list[str] = []

    def query(self, expr: str, at: float | None = None) -> pd.DataFrame:
        self.sent.append(expr)
        return super().query(expr, at)

    def query_range(self, expr: str, start: float, end: float, step: float) -> pd.DataFrame:
        self.sent.append(expr)
        self.ranges.append(expr)
        return super().query_range(expr, start, end, step)


class DashboardServer(ManagedProcess):
    """`python -m dashboard` (gunicorn) on a free port, reading the given Prometheus."""

    name = "dashboard"

    def __init__(self, prometheus_url: str, extra_env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.prometheus_url = prometheus_url
        self.extra_env = extra_env or {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> Sequence[str]:
        return [sys.executable, "-m", "dashboard", "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(REPO),
            PROMETHEUS_URL=self.prometheus_url,
            PROMETHEUS_TIMEOUT="10",
            DASHBOARD_HOST="127.0.0.1",
            **self.extra_env,
        )
        return env

    def is_ready(self) -> bool:
        return requests.get(f"{self.url}/_dash-layout", timeout=2).ok

    def stop(self, timeout: float = 10.0) -> None:
        """gunicorn's quick shutdown (SIGINT): a test has nothing in flight to drain."""
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        super().stop(timeout)


@pytest.fixture
def dashboard_server() -> Iterator[Callable[..., DashboardServer]]:
    started: list[DashboardServer] = []

    def start(prometheus_url: str, **extra_env: str) -> DashboardServer:
        server = DashboardServer(prometheus_url, extra_env)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.cleanup()


@pytest.fixture
def closed_port_url() -> str:
    """A Prometheus URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


#: The first synthetic week's start (2025-10-09), and a week.
REVIEW_START = 1_760_000_000.0
WEEK = 7 * 86400.0


def write_weekly_reviews(out: Path, weeks: int) -> list[Review]:
    """`weeks` weekly reviews into `out`, each week deploying the TTLs the one before
    recommended; keys sampled at 0.5, so the curves have a confidence band."""
    reviews: list[Review] = []
    deployed: dict[str, float] | None = None
    for week in range(weeks):
        events = zipf_events(
            requests=40_000, keys=1_500, seed=21 + week, deployed_ttl=deployed,
            start=REVIEW_START + week * WEEK,
        )  # fmt: skip
        review = run_review(out, events=sample_events(events, 0.5))
        recs = review.recommendations
        deployed = dict(zip(recs["endpoint"], recs["recommended_ttl_seconds"], strict=True))
        reviews.append(review)
    return reviews


@pytest.fixture(scope="session")
def ttl_reviews(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A review folder with two weekly reviews (its history pairs them); read-only for tests."""
    out = tmp_path_factory.mktemp("ttl-two") / "ttl-review"
    write_weekly_reviews(out, 2)
    return out


@pytest.fixture(scope="session")
def ttl_review_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A review folder with one review; read-only for tests."""
    out = tmp_path_factory.mktemp("ttl-one") / "ttl-review"
    write_weekly_reviews(out, 1)
    return out
