"""The rollout view: hit ratio over time, overall and per endpoint, and the rollout start.

window = ViewState(range="24h").window(time.time())
frame = hit_ratio(client, window, Scope())     # time, series, value (0..1)
start = rollout_start(frame, window, configured=None)
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pandas as pd

from dashboard.prom import PromClient
from dashboard.queries.common import Scope, concat, label, prefer_rule, to_series
from dashboard.view import TimeWindow

OVERALL = "all endpoints"
HITS = "cachewatch_cache_hits_total"
LOOKUPS = '__name__=~"cachewatch_cache_hits_total|cachewatch_cache_misses_total"'


def hit_ratio_expr(matcher: str, rate_window: str, by: str = "") -> str:
    """hits / (hits + misses), summed over instances first; absent where there were no lookups.

    >>> print(hit_ratio_expr('endpoint="areas"', "5m").replace("cachewatch_cache_", ""))
    ... # doctest: +NORMALIZE_WHITESPACE
    (sum(rate(hits_total{endpoint="areas"}[5m])) or 0 *
     sum(rate({__name__=~"hits_total|misses_total", endpoint="areas"}[5m])))
     / (sum(rate({__name__=~"hits_total|misses_total", endpoint="areas"}[5m])) > 0)
    """
    agg = f"sum by ({by})" if by else "sum"
    hits = f"{agg}(rate({HITS}{{{matcher}}}[{rate_window}]))"
    lookups = f"{agg}(rate({{{LOOKUPS}, {matcher}}}[{rate_window}]))"
    return f"({hits} or 0 * {lookups}) / ({lookups} > 0)"


def hit_ratio(client: PromClient, window: TimeWindow, scope: Scope) -> pd.DataFrame:
    """The hit ratio over the window: `all endpoints` (unless one is picked) and each endpoint."""
    w = window.rate_window
    per_endpoint = prefer_rule(
        client,
        "endpoint:cachewatch_cache_hit_ratio:ratio_rate5m",
        f"avg by (endpoint) (endpoint:cachewatch_cache_hit_ratio:ratio_rate5m{{{scope.matcher}}})",
        hit_ratio_expr(scope.matcher, w, by="endpoint"),
        window,
    )
    exprs = {"endpoints": per_endpoint}
    if not scope.endpoint:
        exprs["overall"] = prefer_rule(
            client,
            "job:cachewatch_cache_hit_ratio:ratio_rate5m",
            "avg(job:cachewatch_cache_hit_ratio:ratio_rate5m)",
            hit_ratio_expr(scope.matcher, w),
            window,
        )
    frames = client.query_range_many(exprs, window.start, window.end, window.step)
    parts = [to_series(frames["endpoints"], label("endpoint"))]
    if "overall" in frames:
        parts.insert(0, to_series(frames["overall"], OVERALL))
    return concat(parts)


@dataclasses.dataclass(frozen=True)
class RolloutMark:
    """Where the chart marks the rollout: the configured time, or the first sample."""

    at: datetime
    text: str


def rollout_start(
    frame: pd.DataFrame, window: TimeWindow, configured: datetime | None
) -> RolloutMark | None:
    """ROLLOUT_START if it falls in the window; else the first sample, if data begins inside it.

    When the data already covers the window's start, the rollout happened before
    the window and nothing is marked.
    """
    start = pd.Timestamp(window.start, unit="s", tz="UTC")
    end = pd.Timestamp(window.end, unit="s", tz="UTC")
    if configured is not None:
        at = pd.Timestamp(configured)
        return RolloutMark(at.to_pydatetime(), "rollout start") if start <= at <= end else None
    if frame.empty:
        return None
    first = frame["time"].min()
    if first <= start + pd.Timedelta(seconds=window.step):
        return None
    return RolloutMark(first.floor("s").to_pydatetime(), "first sample")
