"""Redis (`/redis`): is the cache's store healthy?

Memory used vs maxmemory, keys, evictions and expirations, the circuit
breaker, and failed cache operations; node figures are summed over nodes.
"""

from __future__ import annotations

import plotly.graph_objects as go
from dash import Dash, html

from dashboard.components import chart_card, stat
from dashboard.context import AppContext
from dashboard.figures import Unit, timeseries
from dashboard.pages import Page
from dashboard.pages.base import PageView, page_frame, register_view, uirevision
from dashboard.queries.redis import (
    RedisStatus,
    circuit,
    errors,
    evictions,
    keys,
    memory,
    redis_status,
)
from dashboard.view import ViewState

PREFIX = "redis"
CHARTS = {
    "redis-memory": "Memory used vs maxmemory",
    "redis-keys": "Keys",
    "redis-evictions": "Evictions and expirations",
    "redis-circuit": "Circuit breaker",
    "redis-errors": "Failed cache operations",
}
PARTS = ["redis-cards"]


def _bytes(n: float | None) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def cards(s: RedisStatus, span: str) -> html.Div:
    """The latest state at a glance."""
    if s.used_bytes is not None and s.max_bytes:
        memory_note = f"of {_bytes(s.max_bytes)} maxmemory ({s.used_bytes / s.max_bytes:.0%})"
    else:
        memory_note = "no maxmemory limit" if s.used_bytes is not None else ""
    nodes = "–" if s.nodes is None else f"{s.nodes_up} / {s.nodes}"
    circuit_text = {None: "–", True: "OPEN", False: "closed"}[s.circuit_open]
    return html.Div(
        className="stats",
        children=[
            stat("Nodes up", nodes, "answering INFO",
                 "bad" if s.nodes is not None and s.nodes_up != s.nodes else ""),
            stat("Memory used", _bytes(s.used_bytes), memory_note),
            stat("Keys", "–" if s.keys is None else f"{s.keys:,.0f}", "in the service's database"),
            stat("Circuit breaker", circuit_text, "any worker", "bad" if s.circuit_open else ""),
            stat(f"Errors · {span}", "–" if s.errors is None else f"{s.errors:,.0f}",
                 "failed cache operations", "bad" if (s.errors or 0) >= 0.5 else ""),
            stat(f"Evictions · {span}", "–" if s.evicted is None else f"{s.evicted:,.0f}",
                 "keys evicted by maxmemory"),
        ],
    )  # fmt: skip


def render(ctx: AppContext, state: ViewState) -> PageView:
    window, scope = ctx.view(state)
    got = ctx.gather(
        status=lambda: redis_status(ctx.client, window, scope),
        memory=lambda: memory(ctx.client, window),
        keys=lambda: keys(ctx.client, window),
        evictions=lambda: evictions(ctx.client, window),
        circuit=lambda: circuit(ctx.client, window),
        errors=lambda: errors(ctx.client, window, scope),
    )
    rev = uirevision(PREFIX, state)

    def chart(
        name: str, unit: Unit, order: list[str] | None = None, hide_zero: bool = False
    ) -> go.Figure:
        frame = got[name.removeprefix("redis-")]
        return timeseries(
            frame,
            title=CHARTS[name],
            unit=unit,
            uirevision=rev,
            step=window.step,
            span=(window.start, window.end),
            order=order,
            hide_zero=hide_zero,
        )

    figures = {
        "redis-memory": chart("redis-memory", "bytes", order=["used", "maxmemory"]),
        "redis-keys": chart("redis-keys", "count"),
        "redis-evictions": chart("redis-evictions", "per_second", order=["evicted", "expired"]),
        "redis-circuit": chart("redis-circuit", "state"),
        "redis-errors": chart("redis-errors", "per_second", hide_zero=True),
    }
    status: RedisStatus = got["status"]
    has_data = status.has_data or any(not got[k].empty for k in ("memory", "keys", "circuit"))
    return PageView(figures, {"redis-cards": cards(status, state.range)}, has_data)


def layout() -> html.Div:
    return page_frame(
        PREFIX,
        html.Div(id="redis-cards", className="stats-slot"),
        html.Div(
            className="grid",
            children=[chart_card(name, title) for name, title in CHARTS.items()],
        ),
    )


def register(app: Dash, ctx: AppContext) -> None:
    register_view(app, ctx, PREFIX, CHARTS, PARTS, render)


PAGE = Page(
    path="/redis",
    name="Redis",
    layout=layout,
    register=register,
    description="Memory, keys, evictions, the circuit breaker and cache errors.",
)
