"""The request histogram, observed by a WSGI middleware rather than Flask request hooks.

    app.wsgi_app = RequestTimer(app, metrics.request_seconds)
    label(endpoint="areas")            # from the cache layer, during the request
    label(cache="hit")

Every request is timed into `cachewatch_http_request_duration_seconds` with
the labels `endpoint`, `cache` and `status`. A cached route names its endpoint
and cache result through `label()`, which writes into a per-request slot held
in a ContextVar; any other request is labelled by its Flask rule (`healthz`,
`readyz`, `admin`, else `other`). As middleware this costs a few microseconds
less per request than a before/after_request pair (no hook dispatch, no `g`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from flask import Flask

_ROUTE_LABELS = {"health.healthz": "healthz", "health.readyz": "readyz"}

#: [endpoint or None, cache result, status class] of the request being served.
_slot: ContextVar[list[Any]] = ContextVar("cachewatch_request_labels")


def label(endpoint: str | None = None, cache: str | None = None) -> None:
    """Label the current request (outside a timed request, this does nothing)."""
    slot = _slot.get(None)
    if slot is None:
        return
    if endpoint is not None:
        slot[0] = endpoint
    if cache is not None:
        slot[1] = cache


class RequestTimer:
    def __init__(self, app: Flask, histogram: Any) -> None:
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.histogram = histogram
        self._children: dict[tuple[str, str, str], Any] = {}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        start = time.perf_counter()
        slot: list[Any] = [None, "none", "5xx"]
        token = _slot.set(slot)

        def timed_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            slot[2] = status[0] + "xx"
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, timed_start_response)
        finally:
            _slot.reset(token)
            labels = (slot[0] or self._route_label(environ), slot[1], slot[2])
            child = self._children.get(labels)
            if child is None:  # bound once per label set: no label lookup per request
                child = self._children[labels] = self.histogram.labels(*labels)
            child.observe(time.perf_counter() - start)

    def _route_label(self, environ: dict[str, Any]) -> str:
        """The label of a route that is not cached, from its Flask endpoint."""
        try:
            rule, _ = self.app.url_map.bind_to_environ(environ).match(
                method=environ.get("REQUEST_METHOD", "GET")
            )
        except Exception:  # noqa: BLE001 - 404, 405, redirects: not a route of ours
            return "other"
        return _ROUTE_LABELS.get(rule, "admin" if rule.startswith("admin.") else "other")
