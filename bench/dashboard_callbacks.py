"""How fast the dashboard's page callbacks answer with 7 days of history.

    python -m bench.dashboard_callbacks            # prints a table; nothing is asserted

7 days of cachewatch metrics at a 15 s scrape interval (two service instances,
two Redis nodes, every series the service exports for the dashboard's queries)
are backfilled with `promtool tsdb create-blocks-from openmetrics` into a fresh
Prometheus data dir, which loads monitoring/'s recording rules; the rules the
dashboard reads get their 7 days of history with `create-blocks-from rules`, as
a Prometheus running them for a week would have. The app then runs under
gunicorn (`python -m dashboard`) and each page's callback is POSTed to
/_dash-update-component as the browser does: one warm-up call, then the median
of 5, for each range and for all endpoints or one. The target is under 500 ms.

The same data is then served with no rules loaded (`raw`: any Prometheus
scraping the service), side by side: what the rules buy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

from tests.dashboard.conftest import PROMETHEUS_CONFIG, DashboardServer
from tests.dashboard.dashhttp import call, outputs, page_callback
from tests.dashboard.rulefill import RECORDING, backfill_rules, recording_groups
from tests.dashboard.scenarios import NODE_B, STEADY, STEADY_NODES
from tests.dashboard.synthetic import EndpointLoad, NodeState, Phase, Scenario, backfill
from tests.support.procs import PrometheusServer

DAY = 86400
TARGET_MS = 500.0
PAGES = ("rollout", "endpoints", "redis")
#: The default view (24h), the others, and one endpoint picked.
VIEWS = ("?range=24h", "?range=1h", "?range=6h", "?range=7d", "?range=24h&endpoint=valuation",
         "?range=7d&endpoint=valuation")  # fmt: skip
#: The recording groups the dashboard reads (24 h: 5m rates and quantiles; 7 d: hourly).
READ_GROUPS = (
    "cachewatch-recording-5m", "cachewatch-recording-latency", "cachewatch-recording-1h",
    "cachewatch-recording-buckets-1h",
)  # fmt: skip
MODES = ("rules", "raw")


def daily(t: np.ndarray) -> np.ndarray:
    """A day's load: quiet at night, busy in the afternoon (1 to 3)."""
    return 2.0 + np.round(4 * np.sin(2 * np.pi * (t / DAY - 0.35))) / 4


def week(t0: int, days: int = 7) -> Scenario:
    """Steady state for `days`, with a half-hour Redis incident on the third day."""
    start = t0 - days * DAY
    incident = start + min(2 * DAY + 10 * 3600, days * DAY // 2)
    broken = {
        **STEADY,
        "areas": EndpointLoad(
            hit_latency={0.001: 1}, miss_latency={0.05: 1}, bypass_latency={0.1: 6},
            bypass_reason="circuit_open", errors={"get": 2}, ttl=3600,
        ),
    }  # fmt: skip
    down = {**STEADY_NODES, NODE_B: NodeState(up=0, used_bytes=0, keys=0)}
    return Scenario(
        [
            Phase(start, incident, STEADY, STEADY_NODES, load=daily),
            Phase(incident, incident + 1800, broken, down, circuit_open=1.0, load=daily),
            Phase(incident + 1800, t0 + 15, STEADY, STEADY_NODES, load=daily),
        ]
    )


def build(data_dir: Path, t0: int, days: int) -> dict[str, float]:
    scenario = week(t0, days)
    series = sum(len(rows) for rows in scenario.series().values()) * len(scenario.instances)
    began = time.perf_counter()
    backfill(scenario, data_dir, max_block="24h")
    return {
        "series": series,
        "samples": series * len(scenario.times()),
        "backfill_s": time.perf_counter() - began,
    }


def measure(url: str, prefix: str, search: str, runs: int) -> tuple[float, list[float]]:
    dep = page_callback(url, prefix)
    session = requests.Session()
    timings = []
    for i in range(runs + 1):
        began = time.perf_counter()
        response = call(url, dep, search=search, n_intervals=i, session=session)
        elapsed = (time.perf_counter() - began) * 1000
        response.raise_for_status()
        banner = outputs(response)[f"{prefix}-banner.children"]
        if banner is not None:
            raise RuntimeError(f"{prefix}{search}: the page shows a banner: {banner}")
        timings.append(elapsed)
    return timings[0], timings[1:]


def run_pages(prometheus_url: str, runs: int) -> list[tuple[str, str, float, float, float]]:
    """(page, view, first call, median, max) in ms for every page and view."""
    rows = []
    app = DashboardServer(prometheus_url)
    app.start()
    try:
        for prefix in PAGES:
            for search in VIEWS:
                first, timed = measure(app.url, prefix, search, runs)
                rows.append((prefix, search, first, statistics.median(timed), max(timed)))
    finally:
        app.cleanup()
    return rows


def settle(url: str, quiet: float = 75.0, limit: float = 600.0) -> int:
    """Wait until Prometheus has compacted the backfilled blocks: the number of blocks
    it holds unchanged for `quiet` seconds (its compaction runs once a minute).

    A Prometheus that ran for a week holds a few large blocks; right after a
    backfill it holds hundreds of small overlapping ones, which every query must
    merge, while compacting them takes the CPU the measurement needs.
    """

    def blocks() -> int:
        text = requests.get(f"{url}/metrics", timeout=10).text
        line = next(x for x in text.splitlines() if x.startswith("prometheus_tsdb_blocks_loaded "))
        return int(float(line.split()[1]))

    began, last, since = time.monotonic(), blocks(), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() - began < limit:
        time.sleep(5)
        now = blocks()
        if now != last:
            last, since = now, time.monotonic()
    return last


def config(mode: str) -> str:
    """Prometheus' configuration: monitoring/'s recording rules loaded, or none."""
    return PROMETHEUS_CONFIG + (f"rule_files: [{RECORDING}]\n" if mode == "rules" else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default=",".join(MODES), help="rules,raw (default: both)")
    parser.add_argument(
        "--prometheus-url", help="use this Prometheus (already holding the data) instead"
    )
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m in MODES]
    results: dict[str, list[tuple[str, str, float, float, float]]] = {}
    if args.prometheus_url:
        results["given"] = run_pages(args.prometheus_url, args.runs)
    else:
        t0 = int(time.time()) // 15 * 15
        with tempfile.TemporaryDirectory(prefix="cachewatch-bench-") as tmp:
            prom = PrometheusServer(config("rules"), config_dir=Path(tmp))
            print(f"backfilling {args.days} days at a 15 s scrape interval...", flush=True)
            facts = build(prom.dir / "data", t0, args.days)
            print(
                f"{facts['series']:,.0f} series, {facts['samples'] / 1e6:.1f} M samples, "
                f"backfilled in {facts['backfill_s']:.0f} s",
                flush=True,
            )
            prom.ready_timeout = 300
            with prom:
                if "rules" in modes:
                    began = time.perf_counter()
                    groups = recording_groups(*READ_GROUPS)
                    backfill_rules(prom, groups, t0 - args.days * DAY, t0)
                    print(f"rules' history backfilled in {time.perf_counter() - began:.0f} s")
                for mode in modes:
                    prom.config_text = config(mode)
                    prom.restart()
                    print(f"{mode}: {settle(prom.url)} blocks once compacted", flush=True)
                    results[mode] = run_pages(prom.url, args.runs)
    print()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (other work on the machine slows this)")
    report(results, args.runs)
    return 0


def report(results: dict[str, list[tuple[str, str, float, float, float]]], runs: int) -> None:
    """One Markdown table: each page and view, the median per mode, and the target's verdict."""
    modes = list(results)
    target = f"< {TARGET_MS:.0f} ms"
    head = " | ".join(f"{m}: first / median of {runs} / max ms" for m in modes)
    print(f"| page | view | {head} | {target} ({modes[0]}) |")
    print("|---|---|" + "---:|" * len(modes) + "---|")
    for i, (prefix, search, *_) in enumerate(results[modes[0]]):
        cells = []
        for mode in modes:
            _, _, first, median, worst = results[mode][i]
            cells.append(f"{first:.0f} / **{median:.0f}** / {worst:.0f}")
        ok = "yes" if results[modes[0]][i][3] < TARGET_MS else "no"
        print(f"| {prefix} | `{search}` | {' | '.join(cells)} | {ok} |")


if __name__ == "__main__":
    sys.exit(main())
