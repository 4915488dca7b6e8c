"""Building blocks the pages share: chart cards with a CSV button, banners, stat cards.

    chart_card("rollout-hit-ratio")        # a graph, its "Download CSV" button and download
    banner("error", "Prometheus is unreachable", "Check PROMETHEUS_URL ...")
    table(["Endpoint", "TTL"], [["areas", "1 h"]])     # rows marked tr[data-endpoint=areas]
    table_download("endpoints-table")      # a table's CSV button; its rows go to a store

Chart ids are pattern-matching ids ({"type": "chart", "chart": name}) so one
callback (`register_downloads`) serves every chart's CSV button.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
from dash import MATCH, Dash, Input, Output, State, dcc, html, no_update

from dashboard.figures import NO_DATA, empty_figure, figure_to_csv

GRAPH_CONFIG: Any = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def chart_id(name: str) -> dict[str, str]:
    return {"type": "chart", "chart": name}


def chart_card(
    name: str, title: str = "", wide: bool = False, figure: go.Figure | None = None
) -> html.Div:
    """A graph (`figure`, else `Loading…` until its callback answers) with a CSV download."""
    return html.Div(
        className="card chart-card" + (" wide" if wide else ""),
        children=[
            dcc.Graph(
                id=chart_id(name),
                figure=figure if figure is not None else empty_figure(title, name, "Loading…"),
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


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    empty: str = NO_DATA,
    class_name: str = "",
) -> html.Table:
    """A plain table, each row marked with its first cell (`tr[data-endpoint=...]`)."""
    body = [html.Tr([html.Td(c) for c in row], **_marked(row[0])) for row in rows]
    if not body:
        body = [html.Tr([html.Td(empty, colSpan=len(headers))])]
    return html.Table(
        className=f"endpoint-table {class_name}".strip(),
        children=[html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)],
    )


def _marked(key: Any) -> dict[str, Any]:
    return {"data-endpoint": str(key)}


def table_card(title: str, *children: Any) -> html.Div:
    """A card with a heading: a table (and notes) under it."""
    return html.Div(className="card table-card", children=[html.H2(title), *children])


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows for a store (JSON): NaN (no data) as null."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def table_download(
    name: str, label: str = "Download CSV", data: list[dict[str, Any]] | None = None
) -> list[Any]:
    """A table's CSV button (`{name}-csv`), its download, and the store (`{name}-data`) holding
    the rows (`records(frame)`: `data`, or a page callback's output); served by
    `register_table_download(app, name, filename)`."""
    return [
        html.Button(label, id=f"{name}-csv", className="csv-button"),
        dcc.Download(id=f"{name}-download"),
        dcc.Store(id=f"{name}-data", data=data),
    ]


def register_table_download(app: Dash, name: str, filename: str) -> None:
    """The callback of `table_download(name)`: the stored rows as `filename`."""

    @app.callback(
        Output(f"{name}-download", "data"),
        Input(f"{name}-csv", "n_clicks"),
        State(f"{name}-data", "data"),
        prevent_initial_call=True,
    )
    def download(n_clicks: int | None, rows: list[dict[str, Any]] | None) -> Any:
        if not n_clicks or rows is None:
            return no_update
        return dcc.send_data_frame(pd.DataFrame(rows).to_csv, filename, index=False)


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
