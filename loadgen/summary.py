"""What a run did: counts by status and X-Cache result, hit ratio, latency percentiles.

    summary = Summary()
    summary.record(Result("valuation", 200, "HIT", 0.0021, key))
    summary.hit_ratio            # HIT / (HIT + MISS), None before any lookup
    print(summary.format())

`X-Cache` is what the service counted for the request (every valid request to a
cached endpoint is exactly one hit, miss or bypass), so these counts match the
service's counters for the traffic this run sent.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

CACHE_RESULTS = ("HIT", "MISS", "BYPASS")
#: The X-Cache value recorded for a response without the header (errors, 4xx).
NO_HEADER = "none"
#: The status recorded for a request that got no response (connection error, timeout).
NO_RESPONSE = 0


@dataclasses.dataclass(frozen=True)
class Result:
    """One request's outcome; `latency` in seconds."""

    endpoint: str
    status: int
    cache: str | None
    latency: float
    key: tuple[Any, ...]


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) of sorted `values`, interpolated linearly."""
    if not values:
        return math.nan
    pos = (len(values) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


class Summary:
    """Thread-safe tallies of a run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.cache: Counter[str] = Counter()
        self.by_endpoint: dict[str, Counter[str]] = {}
        self.latencies: dict[str, list[float]] = {}
        self.keys: set[tuple[Any, ...]] = set()
        self.elapsed = 0.0

    def record(self, result: Result) -> None:
        cache = result.cache.upper() if result.cache else NO_HEADER
        with self._lock:
            self.statuses[result.status] += 1
            self.cache[cache] += 1
            self.by_endpoint.setdefault(result.endpoint, Counter())[cache] += 1
            self.latencies.setdefault(cache, []).append(result.latency)
            if result.status and result.status < 400:
                self.keys.add(result.key)

    # -- derived ------------------------------------------------------------------------
    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        """Requests without a response."""
        return self.statuses[NO_RESPONSE]

    @property
    def distinct_keys(self) -> int:
        """Distinct cache keys among the successful requests."""
        return len(self.keys)

    @property
    def hit_ratio(self) -> float | None:
        return _ratio(self.cache)

    def endpoint_hit_ratio(self, endpoint: str) -> float | None:
        return _ratio(self.by_endpoint.get(endpoint, Counter()))

    def latency(self, cache: str | None = None) -> dict[str, float]:
        """p50/p95/p99 in seconds for one X-Cache result, or for all requests."""
        if cache is None:
            values: Iterable[float] = (v for vs in self.latencies.values() for v in vs)
        else:
            values = self.latencies.get(cache, [])
        ordered = sorted(values)
        return {f"p{q}": percentile(ordered, q) for q in (50, 95, 99)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "requests": self.requests,
            "errors": self.errors,
            "elapsed_seconds": round(self.elapsed, 3),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "cache": dict(self.cache),
            "by_endpoint": {k: dict(v) for k, v in sorted(self.by_endpoint.items())},
            "hit_ratio": self.hit_ratio,
            "distinct_keys": self.distinct_keys,
            "latency_seconds": {
                name: _finite(self.latency(None if name == "all" else name))
                for name in [*sorted(self.latencies), "all"]
            },
        }

    def format(self) -> str:
        """The closing report, for a terminal."""
        rate = self.requests / self.elapsed if self.elapsed > 0 else 0.0
        statuses = "  ".join(
            f"{'no response' if s == NO_RESPONSE else s}: {n}"
            for s, n in sorted(self.statuses.items())
        )
        lines = [
            f"requests   {self.requests} in {self.elapsed:.1f} s ({rate:.1f} req/s), "
            f"{self.distinct_keys} distinct keys",
            f"status     {statuses or '-'}",
            f"X-Cache    {_tally(self.cache)}   hit ratio {_pct(self.hit_ratio)}",
        ]
        for endpoint, counts in sorted(self.by_endpoint.items()):
            lines.append(f"  {endpoint:<15}{_tally(counts)}   hit ratio {_pct(_ratio(counts))}")
        lines.append(f"latency    {'p50':>9} {'p95':>9} {'p99':>9}  (ms)")
        for name in [*CACHE_RESULTS, NO_HEADER, None]:
            if name is not None and name not in self.latencies:
                continue
            p = self.latency(name)
            ms = " ".join(f"{p[k] * 1000:9.2f}" for k in ("p50", "p95", "p99"))
            lines.append(f"  {name or 'all':<9}{ms}")
        return "\n".join(lines)


def _ratio(counts: Counter[str]) -> float | None:
    lookups = counts["HIT"] + counts["MISS"]
    return counts["HIT"] / lookups if lookups else None


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    return {k: None if math.isnan(v) else v for k, v in values.items()}


def _tally(counts: Counter[str]) -> str:
    return "  ".join(f"{name} {counts[name]}" for name in CACHE_RESULTS)


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.1%}"
