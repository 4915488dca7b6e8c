"""Endpoints (`/endpoints`): the rollout's table measured live, and how each result behaves.

Before (miss p50) and after (hit p50) per endpoint with its TTL and the gain;
latency percentiles of hits vs misses; requests by result; misses by reason.
"""

from __future__ import annotations

import math

import pandas as pd
from dash import Dash, html

from dashboard.components import (
    chart_card,
    records,
    register_table_download,
    table_card,
    table_download,
)
from dashboard.components import table as html_table
from dashboard.context import AppContext
from dashboard.figures import timeseries
from dashboard.pages import Page
from dashboard.pages.base import PageView, page_frame, register_view, uirevision
from dashboard.queries.endpoints import (
    endpoint_table,
    latency,
    misses_by_reason,
    requests_by_result,
)
from dashboard.view import ViewState

PREFIX = "endpoints"
CHARTS = {
    "endpoints-latency": "Latency: hits vs misses",
    "endpoints-requests": "Requests by result",
    "endpoints-misses": "Misses and bypasses by reason",
}
PARTS = ["endpoints-table", "endpoints-table-data.data"]
HEADERS = ["Endpoint", "Requests", "Hit ratio", "Before (miss p50)", "After (hit p50)", "TTL",
           "Gain ×"]  # fmt: skip


def _ms(v: float) -> str:
    return "–" if pd.isna(v) else f"{v * 1000:.1f} ms"


def _ttl(v: float) -> str:
    if pd.isna(v):
        return "–"
    return f"{v / 3600:g} h" if v >= 3600 and v % 3600 == 0 else f"{v:g} s"


def table_view(table: pd.DataFrame, span: str) -> html.Div:
    """The table; its rows also go to the `endpoints-table-data` store for the CSV button."""
    cells = [
        [
            row.endpoint,
            f"{row.requests:,.0f}",
            "–" if pd.isna(row.hit_ratio) else f"{row.hit_ratio:.1%}",
            _ms(row.before_p50),
            _ms(row.after_p50),
            _ttl(row.ttl),
            "–" if pd.isna(row.gain) or math.isinf(row.gain) else f"{row.gain:.1f}×",
        ]
        for row in table.itertuples()
    ]
    return table_card(f"The rollout, measured · last {span}", html_table(HEADERS, cells))


def render(ctx: AppContext, state: ViewState) -> PageView:
    window, scope = ctx.view(state)
    got = ctx.gather(
        table=lambda: endpoint_table(ctx.client, window, scope),
        latency=lambda: latency(ctx.client, window, scope),
        requests=lambda: requests_by_result(ctx.client, window, scope),
        misses=lambda: misses_by_reason(ctx.client, window, scope),
    )
    rev, suffix = uirevision(PREFIX, state), (f" · {state.endpoint}" if state.endpoint else "")
    figures = {
        "endpoints-latency": timeseries(
            got["latency"], title=CHARTS["endpoints-latency"] + suffix, unit="seconds",
            uirevision=rev, step=window.step, span=(window.start, window.end),
            order=["hit p50", "hit p95", "hit p99", "miss p50", "miss p95", "miss p99"],
        ),
        "endpoints-requests": timeseries(
            got["requests"], title=CHARTS["endpoints-requests"] + suffix, unit="per_second",
            uirevision=rev, step=window.step, span=(window.start, window.end), stacked=True,
            order=["hit", "miss", "bypass", "rejected (4xx)"],
        ),
        "endpoints-misses": timeseries(
            got["misses"], title=CHARTS["endpoints-misses"] + suffix, unit="per_second",
            uirevision=rev, step=window.step, span=(window.start, window.end), hide_zero=True,
        ),
    }  # fmt: skip
    has_data = not got["table"].empty or any(not f.empty for f in got.values())
    parts = {
        "endpoints-table": table_view(got["table"], state.range),
        "endpoints-table-data.data": records(got["table"]),
    }
    return PageView(figures, parts, has_data)


def layout() -> html.Div:
    return page_frame(
        PREFIX,
        html.Div(
            [
                html.Div(id="endpoints-table", className="table-slot"),
                *table_download("endpoints-table"),
            ],
            className="table-block",
        ),
        html.Div(
            className="grid",
            children=[chart_card(name, title) for name, title in CHARTS.items()],
        ),
    )


def register(app: Dash, ctx: AppContext) -> None:
    register_view(app, ctx, PREFIX, CHARTS, PARTS, render)
    register_table_download(app, "endpoints-table", "endpoints.csv")


PAGE = Page(
    path="/endpoints",
    name="Endpoints",
    layout=layout,
    register=register,
    description="Before and after per endpoint, latency of hits vs misses, results and reasons.",
)
