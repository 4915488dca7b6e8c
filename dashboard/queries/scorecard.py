"""The rollout's success criteria, each pass / fail / not enough data yet, with its measured value.

    criteria = scorecard(client, window, Scope())
    [(c.title, c.status, c.measured) for c in criteria]

Everything is measured over the whole window (`increase(x[W])` at its end) from
raw metrics, so it works on any Prometheus scraping the service, rules or not.
Where the recording rules are loaded and have the window's history, requests
and latency buckets come from them instead (`totals.request_totals`,
`buckets.bucket_increases`).
`evaluate` is the pure part: numbers in, verdicts out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Literal

from dashboard.prom import PromClient, scalar
from dashboard.quantiles import histogram_quantile
from dashboard.queries.buckets import bucket_increases
from dashboard.queries.common import Scope
from dashboard.queries.totals import request_totals
from dashboard.view import TimeWindow

Status = Literal["pass", "fail", "no_data"]

HIT_RATIO_TARGET = 0.80
HIT_P95_TARGET = 0.050  # seconds
DB_REDUCTION_TARGET = 0.70
SPEEDUP_TARGET = 0.50
#: Fewer requests (or observations) than this in the window: not enough data yet.
MIN_REQUESTS = 50
MIN_SAMPLES = 10


@dataclasses.dataclass(frozen=True)
class Criterion:
    key: str
    title: str
    status: Status
    value: float | None
    measured: str


def scorecard_queries(scope: Scope, window: TimeWindow) -> dict[str, str]:
    """The instant queries (at the window's end) that `evaluate` needs, by name."""
    m, w = scope.matcher, window.duration
    return {
        "backend": f"sum(increase(cachewatch_backend_duration_seconds_count{{{m}}}[{w}]))",
        "errors": f"sum(increase(cachewatch_cache_errors_total{{{m}}}[{w}]))",
        "scraped": f"max(max_over_time(cachewatch_cache_enabled[{w}]))",
        "redis_up_min": f"min(min_over_time(cachewatch_redis_up[{w}]))",
        "circuit_max": f"max(max_over_time(cachewatch_cache_circuit_open[{w}]))",
    }


def scorecard(client: PromClient, window: TimeWindow, scope: Scope) -> list[Criterion]:
    got = client.gather(
        {
            "frames": lambda: client.query_many(scorecard_queries(scope, window), at=window.end),
            "totals": lambda: request_totals(client, window, scope, by=()),
            "buckets": lambda: bucket_increases(client, window, scope, by=("cache",)),
        }
    )
    frames, buckets = {**got["frames"], **got["totals"]}, got["buckets"]
    values = {name: scalar(frame) for name, frame in frames.items()}
    for name, q, cache in (("hit_p95", 0.95, "hit"), ("hit_p50", 0.5, "hit"),
                           ("miss_p50", 0.5, "miss")):  # fmt: skip
        part = buckets[buckets["cache"] == cache] if not buckets.empty else buckets
        values[name] = scalar(histogram_quantile(q, part, by=[]))
    return evaluate(values, window.label)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _count(n: float) -> str:
    return f"{round(n):,}"


def evaluate(v: Mapping[str, float | None], span: str = "24h") -> list[Criterion]:
    """Verdicts from measured numbers (None: Prometheus had no such series).

    >>> [c.status for c in evaluate({"hits": 900, "misses": 100, "bypass": 0, "backend": 100,
    ...     "errors": 0, "scraped": 1, "hit_p95": 0.004, "hit_p50": 0.002, "miss_p50": 0.08})]
    ['pass', 'pass', 'pass', 'pass', 'pass', 'pass']
    >>> {c.status for c in evaluate({})}
    {'no_data'}
    """
    hits, misses, bypass = (v.get(k) or 0.0 for k in ("hits", "misses", "bypass"))
    lookups, requests = hits + misses, hits + misses + bypass
    scraped = v.get("scraped") is not None or requests > 0
    nothing = "no cachewatch metrics in this range: is the service scraped?"
    few = f"only {_count(requests)} requests so far (need {MIN_REQUESTS})"
    out: list[Criterion] = []

    def add(key: str, title: str, status: Status, value: float | None, measured: str) -> None:
        out.append(Criterion(key, title, status, value, measured))

    # 1. cache hits observed
    title = "Cache hits observed"
    if hits >= 0.5:
        add("hits", title, "pass", hits, f"{_count(hits)} hits in {_count(requests)} requests")
    elif requests < MIN_REQUESTS:
        add("hits", title, "no_data", hits if scraped else None, few if scraped else nothing)
    else:
        add("hits", title, "fail", 0.0, f"no hits in {_count(requests)} requests")

    # 2. hit ratio
    title = f"Hit ratio ≥ {HIT_RATIO_TARGET:.0%} over the last {span}"
    if lookups < MIN_REQUESTS:
        add("hit_ratio", title, "no_data", None, few if scraped else nothing)
    else:
        ratio = hits / lookups
        status: Status = "pass" if ratio >= HIT_RATIO_TARGET else "fail"
        add("hit_ratio", title, status, ratio, f"{ratio:.1%} of {_count(lookups)} lookups")

    # 3. cached responses p95
    title = f"Cached responses p95 < {HIT_P95_TARGET * 1000:.0f} ms"
    p95 = v.get("hit_p95")
    if hits < MIN_SAMPLES or p95 is None:
        add("hit_p95", title, "no_data", None, f"{_count(hits)} hits so far (need {MIN_SAMPLES})")
    else:
        add("hit_p95", title, "pass" if p95 < HIT_P95_TARGET else "fail", p95, f"p95 {_ms(p95)}")

    # 4. database load
    title = f"Database load reduced ≥ {DB_REDUCTION_TARGET:.0%}"
    backend = v.get("backend")
    if requests < MIN_REQUESTS or backend is None:
        add("db_load", title, "no_data", None, few if scraped else nothing)
    else:
        cut = 1 - backend / requests
        status = "pass" if cut >= DB_REDUCTION_TARGET else "fail"
        text = f"{cut:.1%}: {_count(backend)} computations for {_count(requests)} requests"
        add("db_load", title, status, cut, text)

    # 5. zero Redis errors
    title = "Zero Redis errors"
    if not scraped:
        add("redis_errors", title, "no_data", None, nothing)
    else:
        errors = v.get("errors") or 0.0
        down = (v.get("redis_up_min") is not None) and (v.get("redis_up_min") or 0.0) < 1
        tripped = (v.get("circuit_max") or 0.0) >= 1
        notes = [f"{_count(errors)} errors"]
        notes += ["a Redis node was down"] if down else []
        notes += ["the circuit breaker opened"] if tripped else []
        ok = errors < 0.5 and not down and not tripped
        add("redis_errors", title, "pass" if ok else "fail", errors, "; ".join(notes))

    # 6. faster than uncached
    title = f"Responses ≥ {SPEEDUP_TARGET:.0%} faster than uncached (hit vs miss p50)"
    hit_p50, miss_p50 = v.get("hit_p50"), v.get("miss_p50")
    if hits < MIN_SAMPLES or misses < MIN_SAMPLES or hit_p50 is None or not miss_p50:
        text = f"{_count(hits)} hits and {_count(misses)} misses so far (need {MIN_SAMPLES} each)"
        add("speedup", title, "no_data", None, text)
    else:
        gain = 1 - hit_p50 / miss_p50
        status = "pass" if gain >= SPEEDUP_TARGET else "fail"
        text = f"{gain:.0%} faster: hit p50 {_ms(hit_p50)} vs miss p50 {_ms(miss_p50)}"
        add("speedup", title, status, gain, text)
    return out
