"""Rollout (`/`): is the cache doing what the rollout promised?

The hit ratio over the range, overall and per endpoint, against the 80 % target,
with the rollout start marked; and the scorecard of the rollout's success criteria.
"""

from __future__ import annotations

from dash import Dash, html

from dashboard.components import chart_card
from dashboard.context import AppContext
from dashboard.figures import Mark, Target, timeseries
from dashboard.pages import Page
from dashboard.pages.base import PageView, page_frame, register_view, uirevision
from dashboard.queries.rollout import OVERALL, hit_ratio, rollout_start
from dashboard.queries.scorecard import HIT_RATIO_TARGET, Criterion, scorecard
from dashboard.view import ViewState

PREFIX = "rollout"
CHARTS = {"rollout-hit-ratio": "Hit ratio"}
PARTS = ["rollout-scorecard"]
LABELS = {"pass": "PASS", "fail": "FAIL", "no_data": "NOT ENOUGH DATA YET"}


def scorecard_view(criteria: list[Criterion], span: str) -> html.Div:
    rows = [
        html.Div(
            className=f"criterion criterion-{c.status}",
            id=f"criterion-{c.key}",
            children=[
                html.Span(LABELS[c.status], className="verdict"),
                html.Span(c.title, className="criterion-title"),
                html.Span(c.measured, className="criterion-measured"),
            ],
        )
        for c in criteria
    ]
    return html.Div(
        className="card scorecard",
        children=[html.H2(f"Success criteria · last {span}"), *rows],
    )


def render(ctx: AppContext, state: ViewState) -> PageView:
    window, scope = ctx.view(state)
    got = ctx.gather(
        ratio=lambda: hit_ratio(ctx.client, window, scope),
        criteria=lambda: scorecard(ctx.client, window, scope),
    )
    frame, criteria = got["ratio"], got["criteria"]
    start = rollout_start(frame, window, ctx.config.rollout_start)
    figure = timeseries(
        frame,
        title="Hit ratio" + (f" · {state.endpoint}" if state.endpoint else ""),
        unit="ratio",
        uirevision=uirevision(PREFIX, state),
        step=window.step,
        span=(window.start, window.end),
        target=Target(HIT_RATIO_TARGET, f"target {HIT_RATIO_TARGET:.0%}"),
        mark=Mark(start.at, start.text) if start else None,
        order=[OVERALL, *scope.shown],
    )
    has_data = not frame.empty or any(c.status != "no_data" for c in criteria)
    return PageView(
        figures={"rollout-hit-ratio": figure},
        parts={"rollout-scorecard": scorecard_view(criteria, state.range)},
        has_data=has_data,
    )


def layout() -> html.Div:
    return page_frame(
        PREFIX,
        html.Div(id="rollout-scorecard", className="scorecard-slot"),
        chart_card("rollout-hit-ratio", "Hit ratio", wide=True),
    )


def register(app: Dash, ctx: AppContext) -> None:
    register_view(app, ctx, PREFIX, CHARTS, PARTS, render)


PAGE = Page(
    path="/",
    name="Rollout",
    layout=layout,
    register=register,
    description="Hit ratio against the 80 % target and the rollout's success criteria.",
)
