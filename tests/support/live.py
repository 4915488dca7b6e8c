"""A live monitoring stack for tests: Redis, the service, redis_exporter and Prometheus,
with known traffic already sent and the recording rules evaluated over it.

    with LiveStack.start() as live:
        live.query("job:cachewatch_cache_hit_ratio:ratio_rate5m")
        live.query(expr, time_=live.settled_at)     # exactly the known burst
        live.summary.hit_ratio                       # what that burst saw

How it runs: Prometheus scrapes every second and first sees every counter at
0; then `cachewatch load` sends a known burst (KEYS distinct keys in turn,
REQUESTS requests over about ten seconds); the stack waits until Prometheus has
scraped the final counters and every rule group has been evaluated on them:
`settled_at` is such an evaluation time. Afterwards a slow trickle of requests
to the same, already cached keys (all hits) keeps the 5m rates defined for as
long as the session lasts (at most TRICKLE_SECONDS), so values read later drift
slowly toward 1; query at `settled_at` for the exact burst.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import requests

import loadgen
from loadgen.summary import Summary
from tests.support.procs import (
    REPO,
    PrometheusServer,
    RedisExporter,
    RedisServer,
    ServiceProcess,
    wait_until,
)

ENDPOINTS = ("areas", "property_types", "valuation")
RULES_DIR = REPO / "monitoring" / "rules"
#: The known burst: KEYS distinct keys requested in turn, REQUESTS requests at RATE per second
#: (10 s), in the endpoint proportions of MIX. The first round (all misses) lasts over a second,
#: so even series created by it (the request histogram's) grow across scrapes.
KEYS = 50
REQUESTS = 350
RATE = 35.0
MIX = "valuation=6,areas=2,property_types=2"
CONCURRENCY = 2
SEED = 3
#: The trickle after the burst: requests per second, and for how long at most.
TRICKLE_RATE = 0.5
TRICKLE_SECONDS = 1800.0
#: Long TTLs, so no key of the burst expires during a session.
SERVICE_ENV = {"CACHE_TTL_VALUATION": "3600", "CACHE_XFETCH_BETA": "0"}
COUNTERS = (
    "cachewatch_cache_hits_total",
    "cachewatch_cache_misses_total",
    "cachewatch_cache_bypass_total",
)


def rule_files() -> list[Path]:
    """Whatever rule files monitoring/rules holds (none is fine: no recording rules then)."""
    return sorted(RULES_DIR.glob("*.yml"))


def prometheus_config(service: str, exporter: str | None, rules: Sequence[Path]) -> str:
    """A 1 s scrape and evaluation interval over the service (job `cachewatch`) and Redis."""
    lines = [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "  evaluation_interval: 1s",
        "rule_files:",
        *[f"  - {str(path)!r}" for path in rules],
        "scrape_configs:",
        "  - job_name: cachewatch",
        "    static_configs:",
        f"      - targets: [{service!r}]",
    ]
    if not rules:
        lines[lines.index("rule_files:")] = "rule_files: []"
    if exporter:
        lines += ["  - job_name: redis", "    static_configs:", f"      - targets: [{exporter!r}]"]
    return "\n".join(lines) + "\n"


class LiveStack:
    """The running parts, their known traffic, and Prometheus queries (see the module doc)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis = RedisServer()
        self.service = ServiceProcess(self.redis.url, workers=2, env=dict(SERVICE_ENV))
        self.exporter = RedisExporter(self.redis)
        self.rule_files = rule_files()
        self.prometheus = PrometheusServer(
            prometheus_config(
                self.service.url.removeprefix("http://"),
                self.exporter.url.removeprefix("http://"),
                self.rule_files,
            ),
            config_dir=workdir,
        )
        self.summary = Summary()
        self.settled_at = 0.0
        #: The service's own counters once the burst was over: {endpoint: {counter: value}}.
        self.counts: dict[str, dict[str, float]] = {}
        self._stop_trickle = threading.Event()
        self._trickle: threading.Thread | None = None

    # -- what tests use -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Prometheus."""
        return self.prometheus.url

    def query(self, expr: str, time_: float | None = None) -> list[dict]:
        """An instant query's result vector."""
        return self.prometheus.query(expr, time_)

    def value(self, expr: str, time_: float | None = None) -> float | None:
        """The single value of `expr` (None when it is absent)."""
        result = self.query(expr, time_)
        if not result:
            return None
        assert len(result) == 1, f"{expr} has {len(result)} series: {result}"
        return float(result[0]["value"][1])

    def traffic(self, **kwargs: object) -> Summary:
        """More traffic to the service (`loadgen.run` arguments; bounded by its defaults)."""
        return loadgen.run(self.service.url, **kwargs)  # type: ignore[arg-type]

    # -- lifecycle ------------------------------------------------------------------------
    @classmethod
    def start(cls, workdir: Path | None = None) -> LiveStack:
        import tempfile

        stack = cls(workdir or Path(tempfile.mkdtemp(prefix="cachewatch-live-")))
        try:
            stack._start()
        except BaseException:
            stack.stop()
            raise
        return stack

    def _start(self) -> None:
        self.redis.start()
        self.service.start()
        self.exporter.start()
        self.prometheus.start()
        # Every counter is scraped once at 0 before any traffic: rate() then sees each
        # series from its start, and ratios of rates equal ratios of counts.
        wait_until(
            lambda: (
                bool(self.query('up{job="cachewatch"} == 1'))
                and bool(self.query("cachewatch_cache_misses_total"))
            ),
            30,
            "Prometheus to scrape the service",
        )
        self.summary = loadgen.run(
            self.service.url,
            rate=RATE,
            duration=60,
            requests=REQUESTS,
            concurrency=CONCURRENCY,
            keys=KEYS,
            seed=SEED,
            mix=MIX,
        )
        self.settled_at = self._settle()
        self._trickle = threading.Thread(target=self._run_trickle, daemon=True)
        self._trickle.start()

    def _settle(self) -> float:
        self.counts = {
            endpoint: {
                "hits": self.service.metric(COUNTERS[0], endpoint=endpoint),
                "misses": self.service.metric(COUNTERS[1], endpoint=endpoint),
                "bypasses": self.service.metric(COUNTERS[2], endpoint=endpoint),
                "computations": self.service.metric(
                    "cachewatch_backend_duration_seconds_count", endpoint=endpoint
                ),
            }
            for endpoint in ENDPOINTS
        }
        total = sum(self.service.metric(name) for name in COUNTERS)
        expr = " + ".join(f"sum({name})" for name in COUNTERS)
        wait_until(lambda: self.value(expr) == total, 30, "Prometheus to scrape the final counts")
        scraped = self.value("max(timestamp(cachewatch_cache_hits_total))")
        assert scraped is not None
        if not self.rule_files:
            wait_until(lambda: time.time() > scraped + 2.5, 5, "a rule evaluation")
            return scraped + 2.5
        # An evaluation's samples carry its tick time, up to an interval before it started:
        # 2.5 s after the scrape leaves room for that, and for the scrape's own ingestion.
        wait_until(
            lambda: self._last_evaluation() > scraped + 2.5,
            30,
            "every rule group to evaluate the final counts",
        )
        return self._last_evaluation()

    def _last_evaluation(self) -> float:
        """The oldest of the rule groups' last evaluation times."""
        from datetime import datetime

        body = requests.get(f"{self.url}/api/v1/rules", timeout=5).json()
        groups = body["data"]["groups"]
        if not groups:
            return 0.0
        return min(datetime.fromisoformat(g["lastEvaluation"]).timestamp() for g in groups)

    def _run_trickle(self) -> None:
        if self._stop_trickle.wait(2.0):
            return
        loadgen.run(
            self.service.url,
            rate=TRICKLE_RATE,
            duration=TRICKLE_SECONDS,
            concurrency=1,
            keys=KEYS,
            seed=SEED,
            mix=MIX,
            stop=self._stop_trickle,
        )

    def stop(self) -> None:
        self._stop_trickle.set()
        if self._trickle is not None:
            self._trickle.join(15)
        for part in (self.prometheus, self.exporter, self.service, self.redis):
            part.cleanup()

    def __enter__(self) -> LiveStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
