"""Benchmark: the TTL review's what-if replay over the 16-TTL grid.

    python -m bench.ttl_replay                   # 2,000,000+ events, median of 5 runs
    python -m bench.ttl_replay --requests 500000 --runs 3

Generates a seeded synthetic week (Zipf keys on three endpoints, invalidations and
data changes), prepares the timelines once, then times ``replay_stats`` over the
default 16-TTL grid; prints events per second (all events of the trace / median
replay time) and per CPU second of this process (the fair figure on a shared
machine: the replay is single-threaded), the preparation time, and peak memory:
the replay's own peak allocation (tracemalloc, one extra run) and the process's
peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc

from ttlreview.curve import default_ttl_grid
from ttlreview.simulate import replay_stats
from ttlreview.synthetic import zipf_events
from ttlreview.timeline import build_timelines


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark, print its report, return the numbers."""
    parser = argparse.ArgumentParser(prog="python -m bench.ttl_replay")
    parser.add_argument("--requests", type=int, default=2_000_000)
    parser.add_argument("--keys", type=int, default=100_000, help="keys per endpoint")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    events = zipf_events(
        requests=args.requests, keys=args.keys, exponent=0.9, seed=args.seed, changes_per_day=4.0
    )
    generated = time.perf_counter() - started
    started = time.perf_counter()
    tl = build_timelines(events)
    prepared = time.perf_counter() - started
    grid = default_ttl_grid()
    times, cpu = [], []
    for _ in range(args.runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        replay_stats(tl, grid)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    median, median_cpu = statistics.median(times), statistics.median(cpu)
    tracemalloc.start()
    replay_stats(tl, grid)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    result = {
        "events": float(len(events)),
        "requests": float(tl.requests),
        "keys": float(tl.keys),
        "ttls": float(len(grid)),
        "median_seconds": median,
        "events_per_second": len(events) / median,
        "median_cpu_seconds": median_cpu,
        "events_per_cpu_second": len(events) / median_cpu,
        "prepare_seconds": prepared,
        "replay_peak_bytes": float(peak),
        "max_rss_bytes": float(rss),
    }
    print(
        f"trace: {len(events):,} events ({tl.requests:,} requests, {tl.keys:,} keys), "
        f"generated in {generated:.1f} s, timelines prepared in {prepared:.2f} s"
    )
    print(
        f"replay over {len(grid)} TTLs: median {median:.3f} s of {args.runs} runs "
        f"({', '.join(f'{t:.3f}' for t in times)})"
    )
    print(
        f"events/second over the grid: {result['events_per_second']:,.0f} wall clock "
        f"(requests/second: {tl.requests / median:,.0f}); "
        f"{result['events_per_cpu_second']:,.0f} per CPU second (median CPU {median_cpu:.3f} s)"
    )
    print(
        f"peak memory: replay {peak / 2**20:.0f} MiB (tracemalloc), "
        f"process {rss / 2**20:.0f} MiB (max RSS)"
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
