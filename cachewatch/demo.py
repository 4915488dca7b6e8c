"""A first-day demo: 24 hours of simulated cache history for a fresh Prometheus.

    path = write_openmetrics(Path(".state/demo.om"), end=time.time())
    backfill(path, Path(".state/prometheus/data"))

On a fresh machine every 24-hour chart would be empty for a day. This writes
what the service would have emitted over the last 24 hours of a rollout (the
cache switched on at the start, warming up to a steady hit ratio, traffic
following the day), under the same metric names and labels, marked as demo
data by `instance="demo"` and `demo="true"`, then loads it with
`promtool tsdb create-blocks-from openmetrics`. Live traffic carries on from now.
"""

from __future__ import annotations

import math
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

ENDPOINTS = {"areas": (0.45, 3600), "property_types": (0.30, 3600), "valuation": (0.25, 300)}
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: typical latency (median seconds) per endpoint and cache result
LATENCY = {"areas": (0.0021, 0.45), "property_types": (0.0019, 0.29), "valuation": (0.0024, 0.11)}
LABELS = 'job="cachewatch",instance="demo",demo="true"'


def _traffic(t: float, start: float) -> float:
    """Requests per second at time t: a daily curve between about 2 and 12."""
    hour = ((t - start) / 3600.0 + 9) % 24
    return 7 + 5 * math.sin((hour - 9) / 24 * 2 * math.pi)


def _hit_ratio(t: float, start: float) -> float:
    """Warming from 0 to about 0.9 over the first hours after the rollout."""
    return 0.9 * (1 - math.exp(-(t - start) / 5400.0))


def _share_below(le: float, median: float) -> float:
    """Share of a log-normal latency (sigma 0.5) at or below `le`."""
    z = (math.log(le) - math.log(median)) / 0.5
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _series(
    start: float, end: float, step: float, seed: int
) -> Iterator[tuple[str, str, float, float]]:
    """(family, labels, timestamp, value) rows, counters cumulative."""
    rng = random.Random(seed)
    totals: dict[tuple[str, str], float] = {}
    t = start
    while t <= end:
        rate = _traffic(t, start)
        ratio = _hit_ratio(t, start)
        for endpoint, (share, ttl) in ENDPOINTS.items():
            n = rate * share * step * rng.uniform(0.9, 1.1)
            hits = n * ratio
            misses = n - hits
            expired = misses * min(0.8, (t - start) / (ttl * 4))
            add = {
                ("cachewatch_cache_hits_total", f'endpoint="{endpoint}",tier="redis"'): hits,
                ("cachewatch_cache_misses_total", f'endpoint="{endpoint}",reason="cold"'): misses
                - expired,
                (
                    "cachewatch_cache_misses_total",
                    f'endpoint="{endpoint}",reason="expired"',
                ): expired,
                (
                    "cachewatch_cache_bypass_total",
                    f'endpoint="{endpoint}",reason="redis_error"',
                ): 0.0,
                ("cachewatch_cache_errors_total", f'endpoint="{endpoint}",operation="set"'): 0.0,
                (
                    "cachewatch_backend_duration_seconds_bucket",
                    f'endpoint="{endpoint}",le="+Inf"',
                ): misses,
                ("cachewatch_backend_duration_seconds_count", f'endpoint="{endpoint}"'): misses,
                ("cachewatch_backend_duration_seconds_sum", f'endpoint="{endpoint}"'): misses
                * LATENCY[endpoint][1],
            }
            for cache, count, median in (
                ("hit", hits, LATENCY[endpoint][0]),
                ("miss", misses, LATENCY[endpoint][1]),
            ):
                base = f'endpoint="{endpoint}",cache="{cache}",status="2xx"'
                for le in BUCKETS:
                    add[
                        ("cachewatch_http_request_duration_seconds_bucket", f'{base},le="{le}"')
                    ] = count * _share_below(le, median)
                add[("cachewatch_http_request_duration_seconds_bucket", f'{base},le="+Inf"')] = (
                    count
                )
                add[("cachewatch_http_request_duration_seconds_count", base)] = count
                add[("cachewatch_http_request_duration_seconds_sum", base)] = count * median * 1.13
            for key, value in add.items():
                totals[key] = totals.get(key, 0.0) + value
            yield "cachewatch_cache_ttl_seconds", f'endpoint="{endpoint}"', t, float(ttl)
        for (name, labels), value in totals.items():
            yield name, labels, t, round(value, 3)
        used = 40e6 + 30e6 * _hit_ratio(t, start)
        yield "cachewatch_redis_memory_used_bytes", 'node="demo"', t, used
        yield "cachewatch_redis_memory_max_bytes", 'node="demo"', t, 268435456.0
        yield "cachewatch_redis_up", 'node="demo"', t, 1.0
        yield "cachewatch_cache_circuit_open", "", t, 0.0
        t += step


_TYPES = {
    "cachewatch_cache_hits": "counter",
    "cachewatch_cache_misses": "counter",
    "cachewatch_cache_bypass": "counter",
    "cachewatch_cache_errors": "counter",
    "cachewatch_backend_duration_seconds": "histogram",
    "cachewatch_http_request_duration_seconds": "histogram",
    "cachewatch_cache_ttl_seconds": "gauge",
    "cachewatch_redis_memory_used_bytes": "gauge",
    "cachewatch_redis_memory_max_bytes": "gauge",
    "cachewatch_redis_up": "gauge",
    "cachewatch_cache_circuit_open": "gauge",
}


def _family(name: str) -> str:
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name.removesuffix(suffix) in _TYPES:
            return name.removesuffix(suffix)
    return name


def _write(out: TextIO, rows: Iterator[tuple[str, str, float, float]]) -> None:
    grouped: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for name, labels, t, value in rows:
        grouped.setdefault(_family(name), {}).setdefault(f"{name}|{labels}", []).append((t, value))
    for family, series in grouped.items():
        out.write(f"# TYPE {family} {_TYPES[family]}\n")
        for key, points in series.items():
            name, labels = key.split("|", 1)
            full = f"{LABELS},{labels}" if labels else LABELS
            for t, value in points:
                out.write(f"{name}{{{full}}} {value} {t:.3f}\n")
    out.write("# EOF\n")


def write_openmetrics(
    path: Path, end: float, hours: float = 24, step: float = 60, seed: int = 7
) -> Path:
    """Write `hours` of demo history ending at `end` (Unix seconds) as OpenMetrics text."""
    start = end - hours * 3600
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        _write(out, _series(start, end, step, seed))
    return path


def backfill(openmetrics: Path, data_dir: Path) -> None:
    """Turn the OpenMetrics file into TSDB blocks in Prometheus' data folder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(openmetrics), str(data_dir)],
        check=True,
        capture_output=True,
        timeout=600,
    )
