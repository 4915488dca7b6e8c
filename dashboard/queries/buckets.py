"""The request-latency buckets every latency chart and quantile is taken from.

    rates = bucket_rates(client, window, scope, by=("cache",))        # time, cache, le, value
    totals = bucket_increases(client, window, scope, by=("endpoint", "cache"))  # no time

Both cover hits and misses of the scope's endpoints, summed over instances (and
statuses) by `by` and `le`; `histogram_quantile` takes quantiles from them. Where
the charts' rate window is an hour (the 7 d view) and the hourly recording rule
(docs/metrics.md) has the window's history, they read it: a week of every raw
bucket series is the one read that costs this dashboard more than its budget.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.prom import PromClient
from dashboard.queries.common import Scope, rule_fits, tiled_increase
from dashboard.view import TimeWindow

BUCKET = "cachewatch_http_request_duration_seconds_bucket"
#: The same requests' counts: one series per bucket group, a cheap probe of the raw history.
COUNT = "cachewatch_http_request_duration_seconds_count"
RULE = "endpoint_cache_le:cachewatch_http_request_duration_seconds_bucket:rate1h"
LOOKUPS = 'cache=~"hit|miss"'


def uses_rule(client: PromClient, window: TimeWindow) -> bool:
    """Whether the hourly rule serves this window (probed on one bucket per group)."""
    return rule_fits(client, f'{RULE}{{le="+Inf"}}', window, COUNT)


def _lookups(scope: Scope) -> str:
    """The matchers of the scope's hits and misses."""
    return f"{scope.matcher}, {LOOKUPS}"


def bucket_rates(
    client: PromClient, window: TimeWindow, scope: Scope, by: Sequence[str]
) -> pd.DataFrame:
    """Per-second rates over each point's rate window, by `by` and `le`, over time."""
    if uses_rule(client, window):
        source = f"{RULE}{{{_lookups(scope)}}}"
    else:
        source = f"rate({BUCKET}{{{_lookups(scope)}}}[{window.rate_window}])"
    expr = f"sum by ({', '.join([*by, 'le'])}) ({source})"
    return client.query_range(expr, window.start, window.end, window.step)


def bucket_increases(
    client: PromClient, window: TimeWindow, scope: Scope, by: Sequence[str]
) -> pd.DataFrame:
    """Observations over the whole window, by `by` and `le` (one row per bucket).

    From the rule: its hourly rates at the window's end and every hour before it,
    times an hour (`common.tiled_increase`). Otherwise one raw `increase`.
    """
    if uses_rule(client, window):
        tiled = tiled_increase(client, window, RULE, _lookups(scope), [*by, "le"])
        if tiled is not None:
            return tiled
    labels = ", ".join([*by, "le"])
    return client.query(
        f"sum by ({labels}) (increase({BUCKET}{{{_lookups(scope)}}}[{window.duration}]))",
        at=window.end,
    )
