"""The endpoints view: the rollout's table measured live, latency, requests and misses over time.

table = endpoint_table(client, window, Scope())
#   endpoint  requests  hit_ratio  before_p50  after_p50  ttl  gain
latency = latency(client, window, Scope())            # series like "hit p95"
"""

from __future__ import annotations

import pandas as pd

from dashboard.prom import PromClient
from dashboard.quantiles import histogram_quantile
from dashboard.queries.buckets import COUNT, RULE, bucket_increases, bucket_rates, uses_rule
from dashboard.queries.common import Scope, concat, label, rule_fits, to_series
from dashboard.queries.totals import request_totals
from dashboard.view import TimeWindow

QUANTILES = (0.5, 0.95, 0.99)
TABLE_COLUMNS = ["endpoint", "requests", "hit_ratio", "before_p50", "after_p50", "ttl", "gain"]
RESULT_NAMES = {"hit": "hit", "miss": "miss", "bypass": "bypass", "none": "rejected (4xx)"}


def _ttl_query(scope: Scope, window: TimeWindow) -> str:
    """Each endpoint's latest TTL, at the window's end."""
    return (
        "max by (endpoint) (last_over_time(cachewatch_cache_ttl_seconds"
        f"{{{scope.matcher}}}[{window.latest}]))"
    )


def endpoint_table(client: PromClient, window: TimeWindow, scope: Scope) -> pd.DataFrame:
    """One row per endpoint: before (miss p50), after (hit p50), TTL, gain × (before / after).

    Latencies are in seconds, `hit_ratio` in 0..1; a value Prometheus has no data for is NaN.
    Endpoints with no data at all are left out.
    """
    got = client.gather(
        {
            "ttl": lambda: client.query(_ttl_query(scope, window), at=window.end),
            "totals": lambda: request_totals(client, window, scope, by=("endpoint",)),
            "buckets": lambda: bucket_increases(client, window, scope, by=("endpoint", "cache")),
        }
    )
    frames, buckets = {"ttl": got["ttl"], **got["totals"]}, got["buckets"]
    for name, cache in (("before_p50", "miss"), ("after_p50", "hit")):
        part = buckets[buckets["cache"] == cache] if not buckets.empty else buckets
        frames[name] = histogram_quantile(0.5, part, by=["endpoint"]).dropna()
    columns: dict[str, pd.Series] = {}
    for name, frame in frames.items():
        if not frame.empty and "endpoint" in frame:
            columns[name] = frame.set_index("endpoint")["value"]
    if not columns:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    names = ["before_p50", "after_p50", "ttl", "hits", "misses", "bypass"]
    wide = pd.DataFrame(columns).reindex(columns=names).astype(float)
    hits, misses = wide["hits"].fillna(0), wide["misses"].fillna(0)
    wide["requests"] = hits + misses + wide["bypass"].fillna(0)
    lookups = hits + misses
    wide["hit_ratio"] = (hits / lookups).where(lookups > 0)
    wide["gain"] = wide["before_p50"] / wide["after_p50"].where(wide["after_p50"] > 0)
    out = wide.rename_axis("endpoint").reset_index()
    return out[TABLE_COLUMNS].sort_values("endpoint").reset_index(drop=True)


def latency(client: PromClient, window: TimeWindow, scope: Scope) -> pd.DataFrame:
    """p50 / p95 / p99 of hits and of misses over time (seconds), series like `hit p95`.

    One range query fetches the buckets' rates (`buckets.bucket_rates`); the quantiles
    are taken from them here. With one endpoint picked at 24 h, the per-endpoint
    quantile rules serve when they fit.
    """
    names = {q: f"p{round(q * 100)}" for q in QUANTILES}
    if scope.endpoint:  # the per-endpoint rules fit one endpoint, not a sum of several
        rules = {
            name: f"endpoint_cache:cachewatch_http_request_duration_seconds:{name}_rate5m"
            for name in names.values()
        }
        if all(rule_fits(client, rule, window, COUNT) for rule in rules.values()):
            exprs = {
                name: f'avg by (cache) ({rule}{{{scope.matcher}, cache=~"hit|miss"}})'
                for name, rule in rules.items()
            }
            frames = client.query_range_many(exprs, window.start, window.end, window.step)
            return concat(
                [to_series(f, label("cache", f"{{}} {name}")) for name, f in frames.items()]
            )
    buckets = bucket_rates(client, window, scope, by=("cache",))
    parts = []
    for q, name in names.items():
        frame = histogram_quantile(q, buckets, by=["time", "cache"]).dropna()
        parts.append(to_series(frame, label("cache", f"{{}} {name}")))
    return concat(parts)


def requests_by_result(client: PromClient, window: TimeWindow, scope: Scope) -> pd.DataFrame:
    """Requests per second by cache result: hit, miss, bypass, rejected (4xx).

    The requests are the latency histogram's count, which is its +Inf bucket: at 7 d
    the buckets' hourly rule gives it, when it fits.
    """
    if uses_rule(client, window):
        source = f'{RULE}{{{scope.matcher}, le="+Inf"}}'
    else:
        source = f"rate({COUNT}{{{scope.matcher}}}[{window.rate_window}])"
    frame = client.query_range(f"sum by (cache) ({source})", window.start, window.end, window.step)
    return to_series(frame, lambda row: RESULT_NAMES.get(row.get("cache", ""), row.get("cache")))


def misses_by_reason(client: PromClient, window: TimeWindow, scope: Scope) -> pd.DataFrame:
    """Misses (and bypasses) per second by reason: `miss: cold`, `bypass: circuit_open`..."""
    w, m = window.rate_window, scope.matcher
    exprs = {
        "miss": f"sum by (reason) (rate(cachewatch_cache_misses_total{{{m}}}[{w}]))",
        "bypass": f"sum by (reason) (rate(cachewatch_cache_bypass_total{{{m}}}[{w}]))",
    }
    frames = client.query_range_many(exprs, window.start, window.end, window.step)
    return concat([to_series(f, label("reason", f"{kind}: {{}}")) for kind, f in frames.items()])
