"""The TTL review page's figure: report.html's what-if curve, in the dashboard's style.

    fig = curve_figure(review, "areas", uirevision="ttl|<stamp>|all")
    [shape.x0 for shape in fig.layout.shapes]      # the deployed and the recommended TTL

Hit ratio against the TTL on a log axis, its confidence band when the review
has one, the stale-hit share on the right axis, the deployed and recommended
TTLs as vertical lines and the knee as a star (ttlreview.html.endpoint_figure).
"""

from __future__ import annotations

import plotly.graph_objects as go

from ttlreview.html import endpoint_figure
from ttlreview.review import Review


def curve_figure(review: Review, endpoint: str, uirevision: str) -> go.Figure:
    """The what-if curve of one endpoint of the review."""
    recs = review.recommendations.set_index("endpoint")
    rec = recs.loc[endpoint] if endpoint in recs.index else None
    fig = endpoint_figure(review.curve, rec, endpoint)
    fig.update_layout(
        title={"text": f"{endpoint}: what-if hit ratio", "x": 0.01, "font": {"size": 15}},
        template="plotly_white",
        uirevision=uirevision,
        height=400,
        margin={"l": 60, "r": 60, "t": 70, "b": 40},
        legend={"orientation": "h", "y": -0.22},
    )
    return fig
