"""report.html: one self-contained page (plotly.js inlined, no CDN) with a curve per endpoint.

Each figure plots the hit ratio against the TTL (log axis) with its confidence band,
the share of stale hits on the right axis, and marks the deployed TTL, the
recommended TTL and the knee.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ttlreview.flags import fmt_ttl
from ttlreview.recommend import human_bytes

if TYPE_CHECKING:
    from ttlreview.review import Review

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
li { margin: 0.3rem 0; }
"""


BAND_COLOR = "rgba(31,119,180,0.2)"
#: Where the TTL axis has labels (those within the curve's range).
TTL_TICKS = (30, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)


def has_band(curve: pd.DataFrame) -> bool:
    """Whether the curve has a confidence band to draw (none at rate 1: no sampling error)."""
    if not {"hit_ratio_low", "hit_ratio_high"} <= set(curve.columns):
        return False
    return bool((curve["hit_ratio_high"] - curve["hit_ratio_low"] > 0).any())


def endpoint_figure(curve: pd.DataFrame, rec: pd.Series | None, endpoint: str) -> go.Figure:
    """The what-if curve of one endpoint (the dashboard's TTL page shows the same figure).

    The deployed and recommended TTLs are vertical lines (``layout.shapes``, at
    ``x0``); the band (traces ``CI low`` / ``CI high``) is drawn when the curve has one.
    """
    sub = curve[curve["endpoint"] == endpoint].sort_values("ttl_seconds")
    x = sub["ttl_seconds"].astype(float)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    labels = [fmt_ttl(v) for v in x]
    if has_band(sub):
        band = {"mode": "lines", "line": {"width": 0}, "hoverinfo": "skip", "legendgroup": "ci"}
        fig.add_trace(go.Scatter(x=x, y=sub["hit_ratio_high"], name="CI high", showlegend=False,
                                 **band))  # fmt: skip
        fig.add_trace(go.Scatter(x=x, y=sub["hit_ratio_low"], name="CI low", showlegend=False,
                                 fill="tonexty", fillcolor=BAND_COLOR, **band))  # fmt: skip
        fig.add_trace(  # the band's legend entry: no points, so no rows in a CSV of the figure
            go.Scatter(x=[None], y=[None], mode="markers", name="confidence band",
                       legendgroup="ci", marker={"symbol": "square", "size": 12,
                                                 "color": BAND_COLOR})
        )  # fmt: skip
    custom = list(
        zip(
            labels,
            sub["stale_ratio"],
            [human_bytes(v) for v in sub["est_memory_bytes"]],
            sub["backend_per_second"],
            strict=True,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=sub["hit_ratio"],
            mode="lines+markers",
            name="hit ratio",
            line={"color": "#1f77b4"},
            customdata=custom,
            hovertemplate="TTL %{customdata[0]}<br>hit ratio %{y:.1%}<br>stale hits "
            "%{customdata[1]:.2%}<br>memory %{customdata[2]}<br>backend %{customdata[3]:.3g}/s"
            "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=sub["stale_ratio"],
            mode="lines",
            name="stale hits",
            line={"color": "#d62728", "dash": "dot"},
        ),
        secondary_y=True,
    )
    deployed = sub[sub["deployed"]]
    if len(deployed):
        value = float(deployed["ttl_seconds"].iloc[0])
        _mark(fig, value, f"deployed {fmt_ttl(value)}", {"color": "#555", "dash": "dash"}, 1.06)
    if rec is not None:
        value = float(rec["recommended_ttl_seconds"])
        _mark(fig, value, f"recommended {fmt_ttl(value)}", {"color": "#2ca02c", "width": 3}, 1.0)
        knee = rec.get("knee_ttl_seconds", math.nan)
        if knee == knee:
            at = sub[sub["ttl_seconds"] == knee]["hit_ratio"]
            fig.add_trace(
                go.Scatter(
                    x=[knee],
                    y=at,
                    mode="markers",
                    name=f"knee {fmt_ttl(knee)}",
                    marker={"symbol": "star", "size": 14, "color": "#ff7f0e"},
                )
            )
    ticks = [t for t in TTL_TICKS if len(x) and x.min() <= t <= x.max()]
    fig.update_xaxes(
        type="log",
        title_text="TTL (log scale)",
        tickvals=ticks,
        ticktext=[fmt_ttl(t) for t in ticks],
    )
    fig.update_yaxes(title_text="hit ratio", tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text="stale hits / requests", tickformat=".1%", secondary_y=True)
    fig.update_layout(
        title=f"{endpoint}: what-if hit ratio",
        height=420,
        margin={"l": 60, "r": 60, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def _mark(fig: go.Figure, ttl: float, text: str, line: dict[str, object], y: float) -> None:
    """A vertical line at ``ttl`` with a label above the plot. The line is in data units;
    an annotation on a log axis takes log10 of them."""
    fig.add_vline(x=ttl, line=line)
    fig.add_annotation(
        x=math.log10(ttl),
        y=y,
        yref="paper",
        text=text,
        showarrow=False,
        yanchor="bottom",
        font={"color": str(line["color"])},
    )


def render_html(review: Review) -> str:
    """The whole page as a string (about 5 MB: plotly.js is inlined once)."""
    m = review.meta
    recs = review.recommendations.set_index("endpoint")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>TTL review {html.escape(m['week'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>TTL review, week {html.escape(m['week'])}</h1>",
        f"<p>{m['requests']:,} sampled requests on {m['keys']:,} keys over "
        f"{m['window_seconds'] / 86400:.1f} days.</p><h2>Recommendations</h2><ul>",
        *[f"<li>{html.escape(r)}</li>" for r in review.recommendations["reason"]],
        "</ul>",
    ]
    first = True
    for endpoint in sorted(review.curve["endpoint"].unique()):
        rec = recs.loc[endpoint] if endpoint in recs.index else None
        fig = endpoint_figure(review.curve, rec, endpoint)
        parts.append(fig.to_html(full_html=False, include_plotlyjs=first))
        first = False
    parts += [
        "<h2>Check against reality</h2><ul>",
        *[
            f"<li>{html.escape(e)}: {html.escape(x)}</li>"
            for e, x in zip(review.reality["endpoint"], review.reality["explanation"], strict=True)
        ],
        "</ul>",
        "<h2>Recommendations (all columns)</h2>",
        review.recommendations.drop(columns="reason").to_html(index=False, float_format="%.4g"),
        "<h2>Hot keys</h2>",
        review.hot_keys.to_html(index=False) if len(review.hot_keys) else "<p>None.</p>",
        "<h2>Keys requested once</h2>",
        review.one_hit.to_html(index=False, float_format="%.3f"),
        "</body></html>",
    ]
    return "\n".join(parts)
