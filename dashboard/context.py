"""What every page callback needs: the configuration, the Prometheus client, the clock.

ctx = AppContext(DashboardConfig(prometheus_url="http://127.0.0.1:9090"))
window, scope = ctx.view(ViewState.from_search("?range=6h"))
ctx.gather(ratio=lambda: hit_ratio(ctx.client, window, scope), ...)
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from dashboard.config import DashboardConfig
from dashboard.prom import PromClient
from dashboard.queries.common import DEFAULT_ENDPOINTS, Scope, discover_endpoints
from dashboard.view import RANGES, TimeWindow, ViewState

#: How long the list of endpoints found in Prometheus is reused.
ENDPOINTS_TTL = 60.0


@dataclasses.dataclass
class AppContext:
    config: DashboardConfig
    client: PromClient = dataclasses.field(init=False)
    clock: Callable[[], float] = time.time
    _endpoints: tuple[float, tuple[str, ...]] | None = dataclasses.field(default=None, init=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.client = PromClient(self.config.prometheus_url, self.config.prometheus_timeout)

    def endpoints(self) -> tuple[str, ...]:
        """The cached endpoints seen over the last 7 days (reused for a minute)."""
        with self._lock:
            cached = self._endpoints
        if cached is not None and time.monotonic() - cached[0] < ENDPOINTS_TTL:
            return cached[1]
        now = self.clock()
        found = discover_endpoints(self.client, TimeWindow.ending(now, "7d"))
        with self._lock:
            self._endpoints = (time.monotonic(), found)
        return found

    def view(self, state: ViewState) -> tuple[TimeWindow, Scope]:
        """The window ending now and the endpoints the state selects."""
        window = state.window(self.clock())
        known = self.endpoints() if not state.endpoint else DEFAULT_ENDPOINTS
        return window, Scope(known, state.endpoint)

    def gather(self, **calls: Callable[[], Any]) -> dict[str, Any]:
        """Run independent query functions in parallel; the first error propagates."""
        return self.client.gather(calls)


__all__ = ["RANGES", "AppContext"]
