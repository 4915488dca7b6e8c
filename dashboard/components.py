"""Building blocks the pages share: chart cards with a CSV button, banners, stat cards.

    chart_card("rollout-hit-ratio")        # a graph, its "Download CSV" button and download
    banner("error", "Prometheus is unreachable", "Check PROMETHEUS_URL ...")

Chart ids are pattern-matching ids ({"type": "chart", "chart": name}) so one
callback (`register_downloads`) serves every chart's CSV button.
"""

from __future__ import annotations

from typing import Any, Literal

from dash import MATCH, Dash, Input, Output, State, dcc, html, no_update

from dashboard.figures import empty_figure, figure_to_csv

GRAPH_CONFIG: Any = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def chart_id(name: str) -> dict[str, str]:
    return {"type": "chart", "chart": name}


def chart_card(name: str, title: str = "", wide: bool = False) -> html.Div:
    """A graph (showing `Loading…` until its callback answers) with a CSV download."""
    return html.Div(
        className="card chart-card" + (" wide" if wide else ""),
        children=[
            dcc.Graph(
                id=chart_id(name),
                figure=empty_figure(title, name, "Loading…"),
                config=GRAPH_CONFIG,
            ),
            html.Div(
                className="card-actions",
                children=[
                    html.Button(
                        "Download CSV",
                        id={"type": "csv", "chart": name},
                        className="csv-button",
                        n_clicks=0,
                    ),
                    dcc.Download(id={"type": "csv-download", "chart": name}),
                ],
            ),
        ],
    )


def banner(kind: Literal["error", "warning"], title: str, text: str) -> html.Div:
    """The message shown above a page when its data cannot be shown."""
    return html.Div(
        className=f"banner banner-{kind}",
        role="alert",
        children=[html.Strong(title), html.Span(" " + text)],
    )


def stat(label: str, value: str, note: str = "", tone: str = "") -> html.Div:
    """A small card with one figure, e.g. memory used."""
    return html.Div(
        className=f"card stat {tone}".strip(),
        children=[
            html.Div(label, className="stat-label"),
            html.Div(value, className="stat-value"),
            html.Div(note, className="stat-note"),
        ],
    )


def register_downloads(app: Dash) -> None:
    """One callback for every chart's "Download CSV" button: the points the chart shows."""

    @app.callback(
        Output({"type": "csv-download", "chart": MATCH}, "data"),
        Input({"type": "csv", "chart": MATCH}, "n_clicks"),
        State({"type": "chart", "chart": MATCH}, "figure"),
        State({"type": "chart", "chart": MATCH}, "id"),
        prevent_initial_call=True,
    )
    def download(n_clicks: int | None, figure: dict[str, Any] | None, ident: dict[str, str]) -> Any:
        if not n_clicks or not figure:
            return no_update
        return dcc.send_string(figure_to_csv(figure), f"{ident['chart']}.csv")
