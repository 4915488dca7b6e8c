"""What every page's queries share: which endpoints exist, label matchers, series frames.

>>> Scope(("areas", "valuation")).matcher
'endpoint=~"areas|valuation"'
>>> Scope(("areas", "valuation"), "areas").matcher
'endpoint="areas"'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import pandas as pd

from dashboard.prom import PromClient, PromError, scalar
from dashboard.view import TimeWindow, promql_duration

#: The cached endpoints when Prometheus has not seen any yet (docs/metrics.md).
DEFAULT_ENDPOINTS = ("areas", "property_types", "valuation")
_SAFE = re.compile(r"^[A-Za-z0-9_]+$")
#: A recording rule's name ends in its window, e.g. `...:ratio_rate5m`, `...:rate1h`.
_RULE_WINDOW = re.compile(r"rate(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

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


def rule_window(rule: str) -> int | None:
    """The window of a recording rule, in seconds, from its name.

    >>> rule_window("endpoint:cachewatch_cache_hit_ratio:ratio_rate5m"), rule_window("x:y:rate1h")
    (300, 3600)
    """
    found = _RULE_WINDOW.search(rule)
    return int(found.group(1)) * _UNITS[found.group(2)] if found else None


def rule_fits(client: PromClient, rule: str, window: TimeWindow, raw: str) -> bool:
    """Whether recording rule `rule` can stand in for rates of the raw series `raw` here.

    Its window (from its name) must be the chart's rate window (5m at 24 h, 1h at
    7 d), it must be loaded in this Prometheus, and it must have data as far back in
    the window as `raw`: a rule only has history since Prometheus began evaluating it
    (or since it was backfilled). `rule` and `raw` are selectors; narrow ones (one
    series per group) keep this check cheap.
    """
    name = rule.split("{", 1)[0]
    seconds = rule_window(name)
    if seconds is None or window.rate_seconds != seconds:
        return False
    try:
        if name not in client.recording_rules():
            return False
    except PromError as exc:
        if exc.kind in ("unreachable", "timeout"):
            raise
        return False  # a Prometheus (or proxy) without the rules API
    key = ("rule_fits", rule, raw, window.label)
    return bool(client.remember(key, lambda: _reaches_back(client, rule, window, raw, seconds)))


def _reaches_back(
    client: PromClient, rule: str, window: TimeWindow, raw: str, seconds: int
) -> bool:
    """Whether `rule`'s first sample in the window is no later than `raw`'s (give or take)."""
    first = "min_over_time(timestamp(count({}))[{}:{}])"
    span, step = window.duration, promql_duration(window.step)
    got = client.query_many(
        {"rule": first.format(rule, span, step), "raw": first.format(raw, span, step)},
        at=window.end,
    )
    rule_from, raw_from = scalar(got["rule"]), scalar(got["raw"])
    if rule_from is None or raw_from is None:
        return False
    return rule_from <= raw_from + window.step + seconds


def tiled_increase(
    client: PromClient, window: TimeWindow, rule: str, matchers: str, by: Sequence[str]
) -> pd.DataFrame | None:
    """The increase over the window, by `by`, from `rule`, a per-second rate rule.

    Its points one rule window apart, ending at the window's end, tile the whole
    window exactly: their sum times the rule window is the increase, for 168
    samples a series over a week. None when the window is not a whole number of
    rule windows.
    """
    seconds, whole = rule_window(rule), round(window.seconds)
    if seconds is None or whole < seconds or whole % seconds:
        return None
    count = whole // seconds
    expr = f"sum by ({', '.join(by)}) ({rule}{{{matchers}}})"
    points = client.query_range(expr, window.end - (count - 1) * seconds, window.end, seconds)
    if points.empty:
        return pd.DataFrame(columns=[*by, "value"])
    if by:
        totals = points.groupby(list(by), as_index=False)["value"].sum()
    else:
        totals = pd.DataFrame({"value": [points["value"].sum()]})
    return totals.assign(value=totals["value"] * seconds)


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
