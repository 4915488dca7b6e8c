"""Hits, misses and bypasses over a whole window: raw increases, or the rate rules tiled.

    got = request_totals(client, window, Scope(), by=("endpoint",))
    got["hits"], got["misses"], got["bypass"]      # frames: endpoint, value

The table and the scorecard count over the whole window. Where the recording
rules over the charts' rate window (5m at 24 h, 1h at 7 d) fit, their points
tile the window (`common.tiled_increase`): a week of three series an hour
apart, rather than a week of every raw counter series.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import pandas as pd

from dashboard.prom import PromClient
from dashboard.queries.common import Scope, rule_fits, tiled_increase
from dashboard.view import TimeWindow

RAW = {
    "hits": "cachewatch_cache_hits_total",
    "misses": "cachewatch_cache_misses_total",
    "bypass": "cachewatch_cache_bypass_total",
}
#: hits, hits + misses, hits + misses + bypasses per second, per endpoint (docs/metrics.md).
RULES = {
    "hits": "endpoint:cachewatch_cache_hits:rate{}",
    "lookups": "endpoint:cachewatch_cache_lookups:rate{}",
    "requests": "endpoint:cachewatch_requests:rate{}",
}


def request_totals(
    client: PromClient, window: TimeWindow, scope: Scope, by: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """`hits`, `misses` and `bypass` over the window, each a frame of `by` columns and `value`.

    `by` is () for one total or ("endpoint",) for one row per endpoint.
    """
    rules = {name: rule.format(window.rate_window) for name, rule in RULES.items()}
    if all(rule_fits(client, rule, window, RAW["hits"]) for rule in rules.values()):
        tiled = client.gather(
            {
                name: partial(tiled_increase, client, window, rule, scope.matcher, by)
                for name, rule in rules.items()
            }
        )
        if all(frame is not None for frame in tiled.values()):
            hits, lookups, requests = tiled["hits"], tiled["lookups"], tiled["requests"]
            return {
                "hits": hits,
                "misses": _minus(lookups, hits, by),
                "bypass": _minus(requests, lookups, by),
            }
    labels, m, w = ", ".join(by), scope.matcher, window.duration
    exprs = {
        name: f"sum by ({labels}) (increase({metric}{{{m}}}[{w}]))" for name, metric in RAW.items()
    }
    return client.query_many(exprs, at=window.end)


def _minus(a: pd.DataFrame, b: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """a - b, matched on `by`; a part only `a` has keeps its value. Never below 0."""
    if a.empty:
        return a
    if not by:
        rest = float(b["value"].sum()) if not b.empty else 0.0
        return pd.DataFrame({"value": [max(float(a["value"].sum()) - rest, 0.0)]})
    both = a.merge(b, on=list(by), how="left", suffixes=("", "_b")).fillna({"value_b": 0.0})
    both["value"] = (both["value"] - both["value_b"]).clip(lower=0.0)
    return both[[*by, "value"]]
