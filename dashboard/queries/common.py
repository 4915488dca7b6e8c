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

from dashboard.prom import PromClient, PromError
from dashboard.view import TimeWindow

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


def rule_fits(client: PromClient, rule: str, window: TimeWindow) -> bool:
    """Whether recording rule `rule` can stand in for raw rates over this window.

    It must have the chart's rate window (5m), be loaded in this Prometheus, and
    have data at the window's start: a rule only has history since Prometheus
    began evaluating it, and the raw metrics would show more.
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
    return not client.query(f"count({rule})", at=window.start + window.step).empty


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
