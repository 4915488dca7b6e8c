"""A small client for Prometheus' HTTP API, answering with pandas frames.

    client = PromClient("http://localhost:9090", timeout=5)
    now = time.time()
    client.query('sum by (endpoint) (cachewatch_cache_ttl_seconds)')
    #   endpoint  value          one row per series, one column per label
    client.query_range('sum(rate(cachewatch_cache_hits_total[5m]))', now - 3600, now, step=15)
    #   time  value             `time` is a UTC timestamp; one row per sample

Every failure (Prometheus unreachable, a timeout, an HTTP error, a query
Prometheus rejects, an answer that is not Prometheus') raises `PromError`,
whose `kind` and `hint` the pages turn into a banner.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Literal

import pandas as pd
import requests

ErrorKind = Literal["unreachable", "timeout", "http", "query", "invalid"]


class PromError(Exception):
    """Prometheus could not answer; `kind` says why, `hint` what to check."""

    def __init__(self, kind: ErrorKind, url: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.url = url
        self.detail = detail

    @property
    def hint(self) -> str:
        """What to check, in one sentence for the banner."""
        if self.kind in ("unreachable", "timeout"):
            return (
                f"Check PROMETHEUS_URL (now {self.url}), that Prometheus is up "
                f"({self.url}/-/ready answers) and that this dashboard can reach it."
            )
        if self.kind == "query":
            return "Prometheus rejected a query: check that it runs Prometheus 2.x or later."
        return (
            f"Check that PROMETHEUS_URL (now {self.url}) points at Prometheus itself, "
            "not at the service, Grafana or a proxy's login page."
        )


def _value(raw: str) -> float:
    """Prometheus sends sample values as strings, NaN and ±Inf included."""
    return float(raw)


class PromClient:
    """Instant and range queries with explicit timeouts; thread-safe."""

    #: How long the list of loaded recording rules (and other `remember`ed facts) is trusted.
    RULES_TTL = 60.0

    def __init__(self, url: str, timeout: float = 5.0, max_workers: int = 6) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_workers = max_workers
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max_workers)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._memo: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    # -- transport ---------------------------------------------------------------
    def _call(self, path: str, params: Mapping[str, Any], method: str = "POST") -> Any:
        url = f"{self.url}{path}"
        timeouts = (min(self.timeout, 3.0), self.timeout)
        try:
            if method == "POST":
                response = self._session.post(url, data=params, timeout=timeouts)
            else:
                response = self._session.get(url, params=params, timeout=timeouts)
        except requests.Timeout as exc:
            raise PromError("timeout", self.url, f"no answer within {self.timeout:g}s") from exc
        except requests.RequestException as exc:
            raise PromError("unreachable", self.url, _reason(exc)) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise PromError(
                "http" if not response.ok else "invalid",
                self.url,
                f"HTTP {response.status_code} from {url} is not a Prometheus API answer",
            )
        if body["status"] != "success":
            kind: ErrorKind = (
                "query" if body.get("errorType") in ("bad_data", "execution") else "http"
            )
            raise PromError(kind, self.url, f"{body.get('errorType')}: {body.get('error')}")
        return body.get("data")

    # -- queries -----------------------------------------------------------------
    def query(self, expr: str, at: float | None = None) -> pd.DataFrame:
        """An instant query: one row per series, a column per label, and `value`."""
        params: dict[str, Any] = {"query": expr, "timeout": f"{self.timeout:g}s"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._call("/api/v1/query", params)
        kind = data.get("resultType")
        if kind == "scalar":
            return pd.DataFrame({"value": [_value(data["result"][1])]})
        if kind != "vector":
            raise PromError("invalid", self.url, f"expected a vector for {expr!r}, got {kind}")
        rows = [{**item["metric"], "value": _value(item["value"][1])} for item in data["result"]]
        return _frame(rows, ["value"])

    def query_range(self, expr: str, start: float, end: float, step: float) -> pd.DataFrame:
        """A range query: one row per sample, `time` (UTC), a column per label, and `value`."""
        params = {
            "query": expr,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step:g}",
            "timeout": f"{self.timeout:g}s",
        }
        data = self._call("/api/v1/query_range", params)
        if data.get("resultType") != "matrix":
            raise PromError("invalid", self.url, f"expected a matrix for {expr!r}")
        rows = [
            {**item["metric"], "time": float(ts), "value": _value(v)}
            for item in data["result"]
            for ts, v in item["values"]
        ]
        frame = _frame(rows, ["time", "value"])
        frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
        return frame

    def query_many(
        self, exprs: Mapping[str, str], at: float | None = None
    ) -> dict[str, pd.DataFrame]:
        """Several instant queries at once (in parallel), by name."""
        return self.gather({name: partial(self.query, e, at) for name, e in exprs.items()})

    def query_range_many(
        self, exprs: Mapping[str, str], start: float, end: float, step: float
    ) -> dict[str, pd.DataFrame]:
        """Several range queries over the same window at once (in parallel), by name."""
        return self.gather(
            {name: partial(self.query_range, e, start, end, step) for name, e in exprs.items()}
        )

    def gather(self, calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
        """Run independent calls (each may query) at once; their answers by name.
        The first error propagates.

        got = client.gather({"ttl": lambda: client.query(...), "buckets": lambda: ...})
        """
        if len(calls) <= 1:
            return {name: call() for name, call in calls.items()}
        with ThreadPoolExecutor(min(self.max_workers, len(calls))) as pool:
            futures = {name: pool.submit(call) for name, call in calls.items()}
            return {name: future.result() for name, future in futures.items()}

    def label_values(
        self, label: str, match: str, start: float | None = None, end: float | None = None
    ) -> list[str]:
        """The values `label` takes on the series `match` selects (within start..end)."""
        params: dict[str, Any] = {"match[]": match}
        if start is not None and end is not None:
            params.update(start=f"{start:.3f}", end=f"{end:.3f}")
        data = self._call(f"/api/v1/label/{label}/values", params, method="GET")
        return sorted(str(v) for v in data or [])

    def recording_rules(self) -> frozenset[str]:
        """The names of the recording rules this Prometheus evaluates (cached for a minute)."""

        def fetch() -> frozenset[str]:
            data = self._call("/api/v1/rules", {"type": "record"}, method="GET")
            return frozenset(
                str(rule["name"])
                for group in (data or {}).get("groups", [])
                for rule in group.get("rules", [])
                if rule.get("type") == "recording"
            )

        names: frozenset[str] = self.remember("recording_rules", fetch)
        return names

    def remember(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """`compute()`'s answer, reused for RULES_TTL seconds under `key`.

        For facts about this Prometheus that change slowly (which rules it has, how
        far back their history goes), not for query results. Errors are not kept.
        """
        now = time.monotonic()
        with self._lock:
            kept = self._memo.get(key)
        if kept is not None and now - kept[0] < self.RULES_TTL:
            return kept[1]
        value = compute()
        with self._lock:
            self._memo[key] = (now, value)
        return value

    def close(self) -> None:
        self._session.close()


def _frame(rows: Iterable[dict[str, Any]], trailing: list[str]) -> pd.DataFrame:
    """A frame with label columns first (missing labels as ""), then `trailing` columns."""
    rows = list(rows)
    labels = sorted({k for row in rows for k in row} - set(trailing))
    frame = pd.DataFrame(rows, columns=[*labels, *trailing])
    if labels:
        frame[labels] = frame[labels].fillna("").astype(str)
    return frame


def _reason(exc: requests.RequestException) -> str:
    """The innermost reason of a connection failure, without the traceback."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else type(exc).__name__


def scalar(frame: pd.DataFrame) -> float | None:
    """The one value of an aggregated instant query; None when there is none (or NaN)."""
    if frame.empty:
        return None
    value = float(frame["value"].iloc[0])
    return None if math.isnan(value) else value
