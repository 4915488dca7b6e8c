"""What every page's queries share: which endpoints exist, label matchers, series frames.

>>> Scope(("areas", "valuation")).matcher
'endpoint=~"areas|valuation"'
>>> Scope(("areas", "valuation"), "areas").matcher
'endpoint="areas"'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pandas as pd

from dashboard.prom import PromClient, PromError, scalar
from dashboard.view import TimeWindow, promql_duration

#: The cached endpoints when Prometheus has not seen any yet (docs/metrics.md).
DEFAULT_ENDPOINTS = ("areas", "property_types", "valuation")
_SAFE = re.compile(r"^[A-Za-z0-9_]+$")
#: The window of the recording rules a chart can use in place of raw rates.
RULE_WINDOW_SECONDS = 300

SERIES_COLUMNS = ["time", "series", "value"]


@dataclasses.dataclass(frozen=True)
class Scope:
    """The endpoints a query covers: all cached ones, or the one the user picked."""

    endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS
    endpoint: str | None = None

    @property
    def matcher(self) -> str:
        """A label matcher for `endpoint`, without braces."""
        if self.endpoint:
            return f'endpoint="{self.endpoint}"'
        return f'endpoint=~"{"|".join(self.endpoints)}"'

    @property
    def shown(self) -> tuple[str, ...]:
        return (self.endpoint,) if self.endpoint else self.endpoints


def discover_endpoints(client: PromClient, window: TimeWindow) -> tuple[str, ...]:
    """The cached endpoints reported in the window (their TTL gauge), else the defaults."""
    names = client.label_values(
        "endpoint", "cachewatch_cache_ttl_seconds", start=window.start, end=window.end
    )
    safe = tuple(n for n in names if _SAFE.match(n))
    return safe or DEFAULT_ENDPOINTS


def rule_fits(client: PromClient, rule: str, window: TimeWindow, raw: str) -> bool:
    """Whether recording rule `rule` can stand in for rates of metric `raw` over this window.

    It must have the chart's rate window (5m), be loaded in this Prometheus, and
    have data as far back in the window as the raw metric: a rule only has history
    since Prometheus began evaluating it (or since it was backfilled).
    """
    if window.rate_seconds != RULE_WINDOW_SECONDS:
        return False
    try:
        if rule not in client.recording_rules():
            return False
    except PromError as exc:
        if exc.kind in ("unreachable", "timeout"):
            raise
        return False  # a Prometheus (or proxy) without the rules API
    first = "min_over_time(timestamp(count({}))[{}:{}])"
    span, step = window.duration, promql_duration(window.step)
    got = client.query_many(
        {"rule": first.format(rule, span, step), "raw": first.format(raw, span, step)},
        at=window.end,
    )
    rule_from, raw_from = scalar(got["rule"]), scalar(got["raw"])
    if rule_from is None or raw_from is None:
        return False
    return rule_from <= raw_from + window.step + RULE_WINDOW_SECONDS


def to_series(frame: pd.DataFrame, name: str | Callable[[pd.Series], str]) -> pd.DataFrame:
    """A range-query frame in long form: `time`, `series` (fixed or from labels), `value`."""
    if frame.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    out = frame.copy()
    out["series"] = name if isinstance(name, str) else out.apply(name, axis=1)
    return out[SERIES_COLUMNS].reset_index(drop=True)


def label(column: str, fmt: str = "{}") -> Callable[[pd.Series], str]:
    """Name each series by one of its labels, e.g. label("cache", "{} p95")."""
    return lambda row: fmt.format(row.get(column, "") or "(none)")


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack long-form frames, keeping the columns when all are empty."""
    kept = [f for f in frames if not f.empty]
    if not kept:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    return pd.concat(kept, ignore_index=True)
