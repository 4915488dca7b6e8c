"""The Dash app: a shell (navigation, range picker, endpoint filter) around registered pages.

    app = create_app(prometheus_url="http://127.0.0.1:9090")
    app.server            # the Flask app, for gunicorn (see dashboard.cli.serve)

The view's state lives in the URL's query string (`/endpoints?range=6h&endpoint=areas`),
so a view can be shared; every page refreshes every 30 s and keeps the user's zoom.
Pages come from `dashboard.pages.default_pages()` unless `pages` is given.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

from dash import Dash, Input, Output, ctx, dcc, html, no_update

from dashboard.components import register_downloads
from dashboard.config import DashboardConfig
from dashboard.context import AppContext
from dashboard.pages import Page, default_pages
from dashboard.prom import PromError
from dashboard.queries.common import DEFAULT_ENDPOINTS
from dashboard.view import DEFAULT_RANGE, RANGES, ViewState

ALL = "all"


def _nav(pages: Sequence[Page], pathname: str | None, search: str | None) -> list[Any]:
    return [
        dcc.Link(
            page.name,
            href=page.path + (search or ""),
            className="nav-link active" if page.path == (pathname or "/") else "nav-link",
            title=page.description,
        )
        for page in pages
    ]


def _endpoint_options(endpoints: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": "All endpoints", "value": ALL}] + [
        {"label": e, "value": e} for e in endpoints
    ]


def _shell(pages: Sequence[Page], refresh_seconds: float) -> html.Div:
    return html.Div(
        className="shell",
        children=[
            dcc.Location(id="url", refresh="callback-nav"),
            dcc.Interval(id="refresh", interval=int(refresh_seconds * 1000)),
            html.Header(
                className="topbar",
                children=[
                    html.Div([html.Span("cachewatch", className="brand")]),
                    html.Nav(id="nav", className="nav", children=_nav(pages, "/", "")),
                    html.Div(
                        className="controls",
                        children=[
                            dcc.RadioItems(
                                id="range",
                                options=[{"label": k, "value": k} for k in RANGES],
                                value=DEFAULT_RANGE,
                                inline=True,
                                className="range-picker",
                            ),
                            dcc.Dropdown(
                                id="endpoint",
                                options=_endpoint_options(DEFAULT_ENDPOINTS),
                                value=ALL,
                                clearable=False,
                                searchable=False,
                                className="endpoint-filter",
                            ),
                        ],
                    ),
                ],
            ),
            html.Main(id="page", className="main"),
        ],
    )


def not_found(pathname: str, pages: Sequence[Page]) -> html.Div:
    return html.Div(
        className="page",
        children=[
            html.H2("No such page"),
            html.P(f"Nothing lives at {pathname}. The pages are:"),
            html.Ul([html.Li(dcc.Link(p.name, href=p.path)) for p in pages]),
        ],
    )


def create_app(
    prometheus_url: str | None = None,
    *,
    config: DashboardConfig | None = None,
    pages: Sequence[Page] | None = None,
    clock: Callable[[], float] = time.time,
) -> Dash:
    """The dashboard for the Prometheus at `prometheus_url` (default: the environment's)."""
    config = config or DashboardConfig.from_env()
    if prometheus_url:
        config = dataclasses.replace(config, prometheus_url=prometheus_url)
    pages = list(pages if pages is not None else default_pages())
    context = AppContext(config, clock=clock)
    app = Dash(
        __name__,
        title="cachewatch",
        update_title=None,  # type: ignore[arg-type]  # no "Updating..." title flicker
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    app.layout = _shell(pages, config.refresh_seconds)
    by_path = {p.path: p for p in pages}

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(pathname: str | None) -> Any:
        page = by_path.get((pathname or "/").rstrip("/") or "/")
        return page.layout() if page else not_found(pathname or "", pages)

    @app.callback(Output("nav", "children"), Input("url", "pathname"), Input("url", "search"))
    def nav(pathname: str | None, search: str | None) -> list[Any]:
        return _nav(pages, pathname, search)

    @app.callback(
        Output("url", "search"),
        Output("range", "value"),
        Output("endpoint", "value"),
        Output("endpoint", "options"),
        Input("url", "search"),
        Input("range", "value"),
        Input("endpoint", "value"),
        Input("refresh", "n_intervals"),
    )
    def sync(
        search: str | None, range_key: str | None, endpoint: str | None, _n: int | None
    ) -> tuple[Any, ...]:
        """The URL is the state: the controls write to it, and follow it on load or back/forward.

        The endpoint options come with the value, so a shared URL's endpoint is
        always among them (a dropdown drops a value it has no option for).
        """
        trigger = ctx.triggered_id
        if trigger in ("range", "endpoint"):
            picked = ViewState(
                range=range_key if range_key in RANGES else DEFAULT_RANGE,
                endpoint=None if endpoint in (None, ALL) else endpoint,
            )
            wanted = picked.to_search()
            return (no_update if wanted == search else wanted), no_update, no_update, no_update
        state = ViewState.from_search(search)
        options = _endpoint_options(known_endpoints(state.endpoint))
        if trigger == "refresh":
            return no_update, no_update, no_update, options
        return no_update, state.range, state.endpoint or ALL, options

    def known_endpoints(selected: str | None) -> list[str]:
        try:
            found = set(context.endpoints())
        except PromError:
            found = set(DEFAULT_ENDPOINTS)
        return sorted(found | ({selected} if selected else set()))

    register_downloads(app)
    for page in pages:
        page.register(app, context)
    app.server.config["CACHEWATCH_CONTEXT"] = context
    return app
