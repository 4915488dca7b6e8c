"""The one way a page turns a view state into its outputs, errors included.

    register_view(app, ctx, prefix="redis", charts={"redis-memory": "Memory"},
                  parts=["redis-cards", "redis-data.data"], render=render)

`render(ctx, state) -> PageView` only queries and builds; `run_view` wraps it so
that Prometheus being down, answering errors or having no data becomes a banner
over empty charts, never a traceback or a blank page.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, callback_context, html, no_update

from dashboard.components import banner, chart_id
from dashboard.context import AppContext
from dashboard.figures import empty_figure, keep_zoom
from dashboard.prom import PromError
from dashboard.view import ViewState

log = logging.getLogger(__name__)


@dataclasses.dataclass
class PageView:
    """What a page shows: figures by chart name, children by component id."""

    figures: dict[str, go.Figure]
    parts: dict[str, Any]
    has_data: bool


def uirevision(prefix: str, state: ViewState) -> str:
    """Zoom survives refreshes, and resets when the range or endpoint changes."""
    return f"{prefix}|{state.range}|{state.endpoint or 'all'}"


def no_data_banner(ctx: AppContext, state: ViewState) -> html.Div:
    url = ctx.config.prometheus_url
    return banner(
        "warning",
        "No cachewatch data yet.",
        f"Prometheus at {url} has no cachewatch metrics for the last {state.range}"
        + (f" and endpoint {state.endpoint}" if state.endpoint else "")
        + f". Check that Prometheus scrapes the service (the cachewatch job is UP on "
        f"{url}/targets) and that the service has had traffic (cachewatch load sends some).",
    )


def error_banner(exc: PromError) -> html.Div:
    titles = {
        "unreachable": f"Prometheus is unreachable at {exc.url}.",
        "timeout": f"Prometheus at {exc.url} did not answer in time.",
        "query": "Prometheus rejected a query.",
    }
    title = titles.get(exc.kind, f"Prometheus at {exc.url} gave an unexpected answer.")
    return banner("error", title, f"{exc.hint} ({exc.detail})")


def run_view(
    ctx: AppContext,
    state: ViewState,
    prefix: str,
    charts: Mapping[str, str],
    parts: Sequence[str],
    render: Callable[[AppContext, ViewState], PageView],
) -> list[Any]:
    """[banner, status, *figures (in `charts` order), *parts] for the page callback."""
    revision = uirevision(prefix, state)
    try:
        view = render(ctx, state)
        top = None if view.has_data else no_data_banner(ctx, state)
        message = "No data for this range yet"
    except PromError as exc:
        log.warning("page %s: %s", prefix, exc)
        view, top, message = PageView({}, {}, False), error_banner(exc), "No data: see above"
    except Exception:  # a page must never show a traceback; the log keeps it
        log.exception("page %s failed", prefix)
        view = PageView({}, {}, False)
        top = banner("error", "This page failed to load its data.", "The server log has details.")
        message = "No data: see above"
    now = datetime.fromtimestamp(ctx.clock(), UTC).strftime("%H:%M:%S UTC")
    window = state.window(ctx.clock())
    status = f"Last {state.range} · a point every {window.step}s · updated {now}"
    figures = [
        view.figures.get(name) or empty_figure(title, revision, message)
        for name, title in charts.items()
    ]
    return [top, status, *figures, *(view.parts.get(p) for p in parts)]


def register_view(
    app: Dash,
    context: AppContext,
    prefix: str,
    charts: Mapping[str, str],
    parts: Sequence[str],
    render: Callable[[AppContext, ViewState], PageView],
) -> None:
    """The page's callback: the URL's state and the refresh timer in, everything shown out.

    A refresh keeps each chart's zoom: the figures carry `uirevision`, and since
    Dash 4's Graph writes a user's zoom back into its figure (which makes Plotly
    forget it on the next update), the zoom the Graph reported (`relayoutData`)
    is also put back into the refreshed figure. A new range or endpoint clears it.
    """
    outputs = [
        Output(f"{prefix}-banner", "children"),
        Output(f"{prefix}-status", "children"),
        *(Output(chart_id(name), "figure") for name in charts),
        *(Output(*_target(part)) for part in parts),
        *(Output(chart_id(name), "relayoutData") for name in charts),
    ]
    states = [State(chart_id(name), "relayoutData") for name in charts]

    @app.callback(outputs, Input("url", "search"), Input("refresh", "n_intervals"), *states)
    def update(search: str | None, _n: int | None, *zooms: dict[str, Any] | None) -> list[Any]:
        out = run_view(context, ViewState.from_search(search), prefix, charts, parts, render)
        if callback_context.triggered_id != "refresh":
            return [*out, *(None for _ in charts)]  # a new view starts unzoomed
        for figure, zoom in zip(out[2 : 2 + len(charts)], zooms, strict=True):
            keep_zoom(figure, zoom)
        return [*out, *(no_update for _ in charts)]


def _target(part: str) -> tuple[str, str]:
    """A part is a component id (its children), or `id.prop` for another property."""
    ident, _, prop = part.partition(".")
    return ident, prop or "children"


def page_frame(prefix: str, *children: Any) -> html.Div:
    """A page body: its banner slot, its status line, then its content."""
    return html.Div(
        className="page",
        id=f"{prefix}-page",
        children=[
            html.Div(id=f"{prefix}-banner", className="banner-slot"),
            html.Div(id=f"{prefix}-status", className="status-line"),
            *children,
        ],
    )
