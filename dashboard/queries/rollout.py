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
from dashboard.queries.common import Scope, concat, label, rule_fits, to_series
from dashboard.view import TimeWindow

OVERALL = "all endpoints"
HITS = "cachewatch_cache_hits_total"
LOOKUPS = '__name__=~"cachewatch_cache_hits_total|cachewatch_cache_misses_total"'


def ratio_rules(rate_window: str) -> tuple[str, str]:
    """The hit-ratio recording rules (per endpoint, overall) over `rate_window`.

    >>> ratio_rules("1h")[1]
    'job:cachewatch_cache_hit_ratio:ratio_rate1h'
    """
    return (
        f"endpoint:cachewatch_cache_hit_ratio:ratio_rate{rate_window}",
        f"job:cachewatch_cache_hit_ratio:ratio_rate{rate_window}",
    )


#: The rules the 24 h view reads (its points are 5 minutes apart).
RULES = ratio_rules("5m")


def hit_ratio(client: PromClient, window: TimeWindow, scope: Scope) -> pd.DataFrame:
    """The hit ratio over the window: `all endpoints` (unless one is picked) and each endpoint.

    hits / (hits + misses), summed over instances first, absent where there were
    no lookups. Two range queries (hits, lookups by endpoint) give every series;
    the recording rules over the same window (5m at 24 h, 1h at 7 d) serve instead
    when they fit.
    """
    rules = ratio_rules(window.rate_window)
    if all(rule_fits(client, rule, window, HITS) for rule in rules):
        return _from_rules(client, window, scope, rules)
    w, m = window.rate_window, scope.matcher
    exprs = {
        "hits": f"sum by (endpoint) (rate({HITS}{{{m}}}[{w}]))",
        "lookups": f"sum by (endpoint) (rate({{{LOOKUPS}, {m}}}[{w}]))",
    }
    frames = client.query_range_many(exprs, window.start, window.end, window.step)
    lookups = frames["lookups"]
    if lookups.empty:
        return to_series(lookups, OVERALL)
    keys = ["time", "endpoint"]
    both = lookups.merge(frames["hits"], on=keys, how="left", suffixes=("_lookups", "_hits"))
    both = both.fillna({"value_hits": 0.0})
    both = both[both["value_lookups"] > 0]
    per_endpoint = both.assign(value=both["value_hits"] / both["value_lookups"])
    parts = [to_series(per_endpoint, label("endpoint"))]
    if not scope.endpoint:
        totals = both.groupby("time", as_index=False)[["value_hits", "value_lookups"]].sum()
        overall = totals.assign(value=totals["value_hits"] / totals["value_lookups"])
        parts.insert(0, to_series(overall, OVERALL))
    return concat(parts)


def _from_rules(
    client: PromClient, window: TimeWindow, scope: Scope, rules: tuple[str, str]
) -> pd.DataFrame:
    exprs = {"endpoints": f"avg by (endpoint) ({rules[0]}{{{scope.matcher}}})"}
    if not scope.endpoint:
        exprs["overall"] = f"avg({rules[1]})"
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
