"""What the user is looking at: a range and an endpoint, kept in the URL's query string.

>>> state = ViewState.from_search("?range=6h&endpoint=areas")
>>> state.range, state.endpoint, state.to_search()
('6h', 'areas', '?range=6h&endpoint=areas')
>>> ViewState.from_search("?range=bogus").range       # anything unknown: the default
'24h'
>>> window = TimeWindow.ending(1_700_000_000, "24h")
>>> window.step, window.duration, window.rate_window
(300, '1d', '5m')
"""

from __future__ import annotations

import dataclasses
import math
import re
from urllib.parse import parse_qs, urlencode

#: The range picker's choices, in seconds.
RANGES = {"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600}
DEFAULT_RANGE = "24h"

#: Steps a range query may use: the smallest one giving at most MAX_POINTS points wins.
NICE_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_POINTS = 300
#: A rate needs a few scrapes in its window; at a 15 s scrape interval four is one minute.
MIN_RATE_WINDOW = 60

_ENDPOINT = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def choose_step(range_seconds: float, points: int = MAX_POINTS) -> int:
    """A nice step of at least 15 s giving at most `points` points over the range.

    >>> [choose_step(RANGES[r]) for r in ("1h", "6h", "24h", "7d")]
    [15, 120, 300, 3600]
    """
    wanted = range_seconds / points
    return next((s for s in NICE_STEPS if s >= wanted), NICE_STEPS[-1])


def promql_duration(seconds: float) -> str:
    """A PromQL duration in the largest whole unit.

    >>> promql_duration(86400), promql_duration(5400), promql_duration(90)
    ('1d', '90m', '90s')
    """
    whole = math.ceil(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


@dataclasses.dataclass(frozen=True)
class TimeWindow:
    """The span a page shows: [start, end] in epoch seconds, sampled every `step`."""

    start: float
    end: float
    step: int
    label: str

    @classmethod
    def ending(cls, end: float, range_key: str) -> TimeWindow:
        seconds = RANGES.get(range_key, RANGES[DEFAULT_RANGE])
        return cls(start=end - seconds, end=end, step=choose_step(seconds), label=range_key)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def duration(self) -> str:
        """The whole window as a PromQL range, for `increase(x[...])` at `end`."""
        return promql_duration(self.seconds)

    @property
    def latest(self) -> str:
        """How far back "the latest value" may look: the window, at most an hour."""
        return promql_duration(min(self.seconds, 3600))

    @property
    def rate_seconds(self) -> int:
        """The window of each point's rate: one step, and at least MIN_RATE_WINDOW."""
        return max(self.step, MIN_RATE_WINDOW)

    @property
    def rate_window(self) -> str:
        return promql_duration(self.rate_seconds)


@dataclasses.dataclass(frozen=True)
class ViewState:
    """The shareable state of a view; `endpoint` None means all endpoints."""

    range: str = DEFAULT_RANGE
    endpoint: str | None = None

    @classmethod
    def from_search(cls, search: str | None) -> ViewState:
        """Parse `?range=...&endpoint=...`; unknown or unsafe values fall back to defaults."""
        params = parse_qs((search or "").lstrip("?"))
        range_key = (params.get("range") or [DEFAULT_RANGE])[0]
        endpoint = (params.get("endpoint") or [""])[0]
        return cls(
            range=range_key if range_key in RANGES else DEFAULT_RANGE,
            endpoint=endpoint if _ENDPOINT.match(endpoint) else None,
        )

    def to_search(self) -> str:
        params = {"range": self.range}
        if self.endpoint:
            params["endpoint"] = self.endpoint
        return "?" + urlencode(params)

    def window(self, end: float) -> TimeWindow:
        return TimeWindow.ending(end, self.range)
