"""TTL review (`/ttl`): the latest weekly TTL review, and a button to run one now.

What-if curves per endpoint (hit ratio vs TTL, deployed and recommended TTL
marked), the recommendations with their flags, the check against reality, and
last week's prediction vs this week's result. The review is read from
TTL_REVIEW_DIR (default: where `cachewatch ttl-review` writes); the page reloads
it when a new one is written. The endpoint filter applies; the range does not
(a review covers its own window).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State, callback_context, dcc, html, no_update

from dashboard.components import (
    banner,
    chart_card,
    records,
    register_table_download,
    table,
    table_card,
    table_download,
)
from dashboard.config import DashboardConfig
from dashboard.context import AppContext
from dashboard.pages import Page
from dashboard.pages.base import page_frame
from dashboard.queries.ttl import (
    curve_table,
    flags,
    latest_review,
    reality_rows,
    recommendation_rows,
    review_endpoints,
    review_stamp,
    versus_rows,
)
from dashboard.ttl_figures import curve_figure
from dashboard.ttl_run import Outcome, ReviewRunner, safe_url
from dashboard.view import ViewState
from ttlreview.flags import fmt_ttl
from ttlreview.recommend import human_bytes
from ttlreview.review import Review
from ttlreview.summary import pct

log = logging.getLogger(__name__)
PREFIX = "ttl"
CURVES = "ttl-curve-table"
NEEDS_TWO = "Needs two weekly reviews: the history has no earlier review to compare with yet."


def _ttl(v: float) -> str:
    return "–" if v != v else fmt_ttl(float(v))


def _pp(v: float) -> str:
    return "n/a" if v != v else f"{v * 100:+.1f} pp"


def _when(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclasses.dataclass
class TtlView:
    """The page's outputs: banner, status line, body, and the stamp of the review shown."""

    banner: Any
    status: str
    content: list[Any]
    stamp: str | None


def no_review_banner(config: DashboardConfig) -> html.Div:
    return banner(
        "warning",
        "No TTL review yet.",
        f"There is no review in {config.ttl_review_dir}. Click “Run review now” to review the "
        f"last 7 days of sampled events at {safe_url(config.redis_url)}, or run "
        "cachewatch ttl-review (it writes to the same folder; TTL_REVIEW_DIR sets the page's).",
    )


def recommendations_card(review: Review, endpoint: str | None) -> html.Div:
    cells = []
    for r in recommendation_rows(review, endpoint).itertuples():
        ci = f" ±{r.hit_ratio_ci * 100:.1f}" if math.isfinite(r.hit_ratio_ci) else ""
        changed = not math.isclose(r.recommended_ttl_seconds, r.deployed_ttl_seconds)
        recommended = _ttl(r.recommended_ttl_seconds)
        badges = [
            html.Span(f.text, className="flag", title=f.title) for f in flags(review, r.endpoint)
        ]
        cells.append([
            r.endpoint, _ttl(r.deployed_ttl_seconds),
            html.Strong(recommended) if changed else recommended,
            pct(r.hit_ratio_deployed), pct(r.hit_ratio_recommended) + ci,
            pct(r.stale_ratio_recommended),
            f"{human_bytes(r.memory_recommended_bytes)} "
            f"({'+' if r.memory_delta_bytes >= 0 else ''}{human_bytes(r.memory_delta_bytes)})",
            html.Span(badges, className="flags"), r.reason,
        ])  # fmt: skip
    headers = ["Endpoint", "Deployed TTL", "Recommended TTL", "Hit ratio (deployed)",
               "Hit ratio (recommended)", "Stale hits", "Memory (change)", "Flags",
               "Why"]  # fmt: skip
    b = review.meta["budgets"]
    note = (
        f"Budgets: stale hits ≤ {pct(b['staleness'])} of requests, memory ≤ "
        f"{human_bytes(b['memory_bytes'])} ({b['memory_scope']}). Hit ratios are the model's, "
        "± the half width of the confidence interval in points."
    )
    return table_card(
        "Recommendations",
        table(headers, cells, class_name="ttl-table ttl-text-last"),
        html.P(note, className="note"),
    )


def reality_card(review: Review, endpoint: str | None) -> html.Div:
    cells = [
        [r.endpoint, _ttl(r.deployed_ttl_seconds), f"{r.requests:,.0f}",
         pct(r.predicted_hit_ratio), pct(r.live_hit_ratio), _pp(r.gap), r.explanation]
        for r in reality_rows(review, endpoint).itertuples()
    ]  # fmt: skip
    headers = ["Endpoint", "Deployed TTL", "Sampled requests", "Predicted hit ratio",
               "Live hit ratio", "Gap", "Explanation"]  # fmt: skip
    return table_card(
        "Check against reality · at the deployed TTL",
        table(headers, cells, class_name="ttl-table ttl-text-last"),
    )


def versus_card(review: Review, endpoint: str | None) -> html.Div:
    title = f"Last week's prediction vs this week's result · {review.meta['week']}"
    rows = versus_rows(review, endpoint)
    if rows.empty:
        return table_card(title, html.P(NEEDS_TWO, className="note", id="ttl-needs-two"))
    cells = [
        [r.endpoint, r.previous_week, _ttl(r.previous_recommended_ttl_seconds),
         _ttl(r.deployed_ttl_seconds), "yes" if r.followed else "no", pct(r.predicted_hit_ratio),
         pct(r.live_hit_ratio), _pp(r.prediction_error), pct(r.model_at_deployed)]
        for r in rows.itertuples()
    ]  # fmt: skip
    headers = ["Endpoint", "Reviewed", "Recommended then", "Deployed now", "Followed",
               "Predicted", "Live", "Error", "Model at deployed TTL"]  # fmt: skip
    return table_card(title, table(headers, cells, class_name="ttl-table"))


def render(config: DashboardConfig, endpoint: str | None, now: float) -> TtlView:
    """Read the latest review and build the page; a missing or unreadable review is a banner."""
    folder, stamp = config.ttl_review_dir, review_stamp(config.ttl_review_dir)
    checked = datetime.fromtimestamp(now, UTC).strftime("%H:%M:%S UTC")
    try:
        review = latest_review(folder)
    except Exception:  # half-written or foreign files: a banner, the log keeps the traceback
        log.exception("TTL review in %s unreadable", folder)
        top = banner("error", f"The TTL review in {folder} could not be read.",
                     "The dashboard's log has the details; run the review again.")  # fmt: skip
        return TtlView(top, f"Checked {checked}", [], stamp)
    if review is None:
        return TtlView(
            no_review_banner(config), f"No review in {folder} · checked {checked}", [], None
        )
    m, names = review.meta, review_endpoints(review, endpoint)
    status = (
        f"Week {m['week']} · {_when(m['window_start'])} → {_when(m['window_end'])} · "
        f"{m['requests']:,} sampled requests on {m['keys']:,} keys · generated "
        f"{m['generated_at']} · read {checked}"
    )
    revision = f"{PREFIX}|{stamp}|{endpoint or 'all'}"
    charts = [
        chart_card(f"ttl-curve-{name}", figure=curve_figure(review, name, revision))
        for name in names
    ]
    missing = banner("warning", f"The review has no endpoint {endpoint}.",
                     "Pick another endpoint, or all endpoints.")  # fmt: skip
    content = [
        recommendations_card(review, endpoint),
        html.Div(className="grid", children=charts),
        html.Div(
            table_download(
                CURVES, "Download the curve table (CSV)", records(curve_table(review, endpoint))
            ),
            className="table-block",
        ),
        reality_card(review, endpoint),
        versus_card(review, endpoint),
    ]
    return TtlView(None if names else missing, status, content, stamp)


def page_outputs(ctx: AppContext, search: str | None, trigger: Any, shown: str | None) -> list[Any]:
    """[banner, status, content, shown]: nothing changes on a refresh if the review did not."""
    endpoint = ViewState.from_search(search).endpoint
    key = f"{review_stamp(ctx.config.ttl_review_dir)}|{endpoint}"
    if trigger == "refresh" and shown == key:
        return [no_update] * 4
    view = render(ctx.config, endpoint, ctx.clock())
    return [view.banner, view.status, view.content, f"{view.stamp}|{endpoint}"]


def run_message(outcome: Outcome) -> html.Div:
    if outcome.kind in ("error", "warning"):
        title = "Review not run." if outcome.kind == "warning" else "Review failed."
        return banner(outcome.kind, title, outcome.text)
    return html.Div(outcome.text, className=f"run-message run-{outcome.kind}", role="status")


def run_outputs(runner: ReviewRunner, n_clicks: int | None) -> list[Any]:
    """[message, ran]: `ran` changes (and the page reloads) when a review was written."""
    if not n_clicks:
        return [no_update, no_update]
    outcome = runner.run()
    return [
        run_message(outcome),
        datetime.now(UTC).isoformat() if outcome.kind == "ok" else no_update,
    ]


def layout() -> html.Div:
    return page_frame(
        PREFIX,
        html.Div(
            className="run-bar",
            children=[
                html.Button("Run review now", id="ttl-run", className="run-button", n_clicks=0),
                html.Span("the last 7 days of sampled events", className="note"),
                html.Div(id="ttl-run-message"),
                dcc.Store(id="ttl-ran"),
                dcc.Store(id="ttl-shown"),
            ],
        ),
        html.Div(id="ttl-content"),
    )


def register(app: Dash, ctx: AppContext) -> None:
    runner = ReviewRunner(ctx.config.ttl_review_dir, ctx.config.redis_url)

    @app.callback(
        Output("ttl-banner", "children"),
        Output("ttl-status", "children"),
        Output("ttl-content", "children"),
        Output("ttl-shown", "data"),
        Input("url", "search"),
        Input("refresh", "n_intervals"),
        Input("ttl-ran", "data"),
        State("ttl-shown", "data"),
    )
    def update(search: str | None, _n: int | None, _ran: Any, shown: str | None) -> list[Any]:
        return page_outputs(ctx, search, callback_context.triggered_id, shown)

    @app.callback(
        Output("ttl-run-message", "children"),
        Output("ttl-ran", "data"),
        Input("ttl-run", "n_clicks"),
        running=[(Output("ttl-run", "disabled"), True, False)],
        prevent_initial_call=True,
    )
    def run_now(n_clicks: int | None) -> list[Any]:
        return run_outputs(runner, n_clicks)

    register_table_download(app, CURVES, "ttl-curve.csv")


PAGE = Page(
    path="/ttl",
    name="TTL review",
    layout=layout,
    register=register,
    description="What-if TTL curves, recommendations and the check against reality.",
)
