"""Plotly figures from long-form frames (`time`, `series`, `value`), and their CSV.

    fig = timeseries(frame, title="Hit ratio", unit="ratio", uirevision="rollout-24h",
                     target=Target(0.8, "target 80%"))
    figure_to_csv(fig.to_plotly_json())      # what the chart shows, one row per point

Every figure carries a `uirevision`, so the 30-second refresh keeps the user's
zoom and legend choices; a frame without data gives a figure saying so.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

Unit = Literal["ratio", "seconds", "bytes", "per_second", "count", "state"]

#: How values are shown: (multiplier, axis title suffix, tick format, hover format).
UNITS: dict[str, tuple[float, str, str, str]] = {
    "ratio": (1.0, "", ".0%", ".1%"),
    "seconds": (1000.0, "ms", "", ".2f"),
    "bytes": (1.0, "bytes", "~s", ".3~s"),
    "per_second": (1.0, "per second", "", ".3~g"),
    "count": (1.0, "", "~s", ",.0f"),
    "state": (1.0, "", "", ".0f"),
}
COLORS = ("#1f6feb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2", "#6b7280", "#db2777")
NO_DATA = "No data for this range yet"
#: The look of every chart, resolved once (Plotly would copy it for each figure).
TEMPLATE = pio.templates["plotly_white"].to_plotly_json()


@dataclasses.dataclass(frozen=True)
class Target:
    """A horizontal goal line, e.g. the 80 % hit ratio."""

    value: float
    text: str


@dataclasses.dataclass(frozen=True)
class Mark:
    """A vertical event line, e.g. the rollout start."""

    at: datetime
    text: str


def _base_layout(title: str, uirevision: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "uirevision": uirevision,
        "margin": {"l": 60, "r": 20, "t": 45, "b": 40},
        "height": 320,
        "template": TEMPLATE,
        "legend": {"orientation": "h", "y": -0.18},
        "hovermode": "x unified",
    }


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain dicts, without Plotly's property-by-property validation.

    Validating costs about 20 ms a chart, a third of a page's time at 7 d; the
    dicts come from this module only, and the tests check that Plotly accepts
    every figure the pages make (`go.Figure(fig.to_plotly_json())`).
    """
    return go.Figure(data=data, layout=layout, _validate=False)


def empty_figure(title: str, uirevision: str, message: str = NO_DATA) -> go.Figure:
    fig = _figure([], _base_layout(title, uirevision))
    fig.add_annotation(
        text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
        font={"size": 14, "color": "#6b7280"},
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _grid(frame: pd.DataFrame, step: float | None) -> pd.DatetimeIndex | None:
    """Every step between the first and last sample, so missing points show as gaps."""
    if step is None or frame.empty:
        return None
    start, end = frame["time"].min(), frame["time"].max()
    return pd.date_range(start, end, freq=pd.Timedelta(seconds=step))


def _span_anchor(span: tuple[float, float]) -> dict[str, Any]:
    """An invisible trace over the whole range, so the axis shows it even where no data is.

    (An explicit axis range would do too, but would override the user's zoom on refresh.)
    """
    ends = [pd.Timestamp(s, unit="s", tz="UTC").isoformat() for s in span]
    return {
        "type": "scatter", "x": ends, "y": [None, None], "mode": "lines", "showlegend": False,
        "hoverinfo": "skip", "name": "",
    }  # fmt: skip


#: Tick marks of the log latency axis, in ms.
LOG_TICKS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def timeseries(
    frame: pd.DataFrame,
    *,
    title: str,
    unit: Unit,
    uirevision: str,
    step: float | None = None,
    target: Target | None = None,
    mark: Mark | None = None,
    stacked: bool = False,
    order: list[str] | None = None,
    span: tuple[float, float] | None = None,
    hide_zero: bool = False,
) -> go.Figure:
    """One line (or stacked area) per series.

    `step` reindexes each series so gaps show; `span` (epoch seconds) makes the
    axis cover the whole range; `hide_zero` leaves out series that stay at 0
    (all-zero series become one `total` line, so "none at all" still shows).
    """
    if frame.empty:
        return empty_figure(title, uirevision)
    if hide_zero:
        frame = _drop_zero_series(frame)
    scale, suffix, tickformat, hoverformat = UNITS[unit]
    traces: list[dict[str, Any]] = []
    grid = _grid(frame, step)
    names = list(dict.fromkeys(order or [])) + sorted(set(frame["series"]) - set(order or []))
    for i, name in enumerate(n for n in names if (frame["series"] == n).any()):
        part = frame[frame["series"] == name].drop_duplicates("time").set_index("time")["value"]
        if grid is not None:
            part = part.reindex(grid)
        values = [None if pd.isna(v) else float(v) * scale for v in part.to_numpy()]
        trace = {
            "type": "scatter", "x": [t.isoformat() for t in part.index], "y": values,
            "name": str(name), "mode": "lines", "connectgaps": False,
            "line": {"color": COLORS[i % len(COLORS)], "width": 2,
                     "shape": "hv" if unit == "state" else "linear"},
        }  # fmt: skip
        if stacked:
            trace["stackgroup"] = "one"
        traces.append(trace)
    if span is not None:
        traces.append(_span_anchor(span))
    fig = _figure(traces, _base_layout(title, uirevision))
    fig.update_yaxes(title_text=suffix, tickformat=tickformat, hoverformat=hoverformat)
    fig.update_xaxes(nticks=8)  # few enough not to tilt in a half-width card
    if unit in ("bytes", "per_second", "count"):
        fig.update_yaxes(rangemode="tozero")
    if unit == "seconds":  # hits and misses differ by orders of magnitude
        ticks = [f"{t:g}" for t in LOG_TICKS]
        fig.update_yaxes(
            type="log", title_text="ms (log scale)", tickvals=LOG_TICKS, ticktext=ticks
        )
    if unit == "ratio":
        fig.update_yaxes(range=[0, 1.05])
    if unit == "state":
        fig.update_yaxes(range=[-0.1, 1.1], tickvals=[0, 1], ticktext=["closed", "open"])
    if target is not None:
        fig.add_hline(
            y=target.value * scale, line={"dash": "dash", "color": "#dc2626", "width": 1.5},
            annotation_text=target.text, annotation_position="bottom right",
        )  # fmt: skip
    if mark is not None:
        at = mark.at.isoformat()
        fig.add_shape(
            type="line", x0=at, x1=at, xref="x", y0=0, y1=1, yref="paper",
            line={"dash": "dot", "color": "#374151", "width": 1.5},
        )  # fmt: skip
        fig.add_annotation(
            x=at, y=1, xref="x", yref="paper", text=mark.text, showarrow=False,
            xanchor="left", yanchor="top", font={"size": 12, "color": "#374151"},
        )  # fmt: skip
    return fig


def _drop_zero_series(frame: pd.DataFrame) -> pd.DataFrame:
    nonzero = frame.groupby("series")["value"].apply(lambda v: bool((v.fillna(0) != 0).any()))
    if nonzero.any():
        return frame[frame["series"].isin(nonzero[nonzero].index)]
    total = frame.groupby("time", as_index=False)["value"].sum()
    return total.assign(series="total")


def keep_zoom(figure: go.Figure, relayout: dict[str, Any] | None) -> None:
    """Put the axis ranges a user zoomed to (a Graph's `relayoutData`) into `figure`.

    >>> fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 2, 3]))
    >>> keep_zoom(fig, {"xaxis.range[0]": 1.5, "xaxis.range[1]": 2.5, "yaxis.autorange": True})
    >>> fig.layout.xaxis.range, fig.layout.yaxis.range
    ((1.5, 2.5), None)
    """
    if not relayout or not figure.data:
        return
    for axis in ("xaxis", "yaxis"):
        if f"{axis}.range[0]" in relayout and f"{axis}.range[1]" in relayout:
            zoom = [relayout[f"{axis}.range[0]"], relayout[f"{axis}.range[1]"]]
        elif isinstance(relayout.get(f"{axis}.range"), list):
            zoom = list(relayout[f"{axis}.range"])
        else:
            continue
        figure.update_layout({axis: {"range": zoom, "autorange": False}})


def _array(values: Any) -> list[Any]:
    """A trace's x or y as a list, whether plain or Plotly's base64 typed array."""
    if values is None:
        return []
    if isinstance(values, dict) and "bdata" in values:
        raw = base64.b64decode(values["bdata"])
        return np.frombuffer(raw, dtype=np.dtype(values.get("dtype", "f8"))).tolist()
    return list(values)


def figure_to_csv(figure: dict[str, Any]) -> str:
    """The points a figure shows, as CSV: `series,x,y` (gaps left out).

    >>> figure_to_csv({"data": [{"name": "hit", "x": ["t1", "t2"], "y": [0.5, None]}]})
    'series,x,y\\r\\nhit,t1,0.5\\r\\n'
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["series", "x", "y"])
    for trace in figure.get("data") or []:
        xs, ys = _array(trace.get("x")), _array(trace.get("y"))
        for x, y in zip(xs, ys, strict=False):
            if y is not None:
                writer.writerow([trace.get("name", ""), x, y])
    return out.getvalue()
