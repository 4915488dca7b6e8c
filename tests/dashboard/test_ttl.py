"""The TTL review page: its data and figures on reviews made by ttlreview, its callbacks with
no review, with reviews, and "Run review now" against a real redis-server (or none)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis
import requests
from dash import no_update

from dashboard.config import DashboardConfig
from dashboard.context import AppContext
from dashboard.pages.ttl import NEEDS_TWO, page_outputs, render, run_outputs
from dashboard.queries.ttl import (
    CURVE_TABLE_COLUMNS,
    curve_table,
    flags,
    latest_review,
    recommendation_rows,
    review_stamp,
    versus_rows,
)
from dashboard.ttl_figures import curve_figure
from dashboard.ttl_run import ReviewRunner
from tests.dashboard.conftest import DashboardServer
from tests.dashboard.dashhttp import call, find_callback, outputs, page_callback
from tests.support.procs import RedisServer, wait_until
from tests.ttlreview.streams import xadd_events
from ttlreview.events import sample_events
from ttlreview.flags import fmt_ttl
from ttlreview.review import FILES, Review, load_review
from ttlreview.stream import connect
from ttlreview.synthetic import zipf_events

NOW = 1_760_000_000.0 + 15 * 86400
ENDPOINTS = ["areas", "property_types", "valuation"]


def config(folder: Path, redis_url: str = "redis://127.0.0.1:6379/0") -> DashboardConfig:
    return DashboardConfig(ttl_review_dir=folder, redis_url=redis_url)


def text(component: Any) -> str:
    """Every string inside a component tree (what a reader sees)."""
    if isinstance(component, str):
        return component
    if isinstance(component, list | tuple):
        return " ".join(text(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else text(children)


def charts(content: list[Any]) -> list[Any]:
    """The Graph components in the page's body."""
    grid = content[1]
    return [card.children[0] for card in grid.children]


@pytest.fixture(scope="module")
def review(ttl_reviews: Path) -> Review:
    return load_review(ttl_reviews)


@pytest.fixture
def redis_stream() -> Iterator[tuple[str, redis.Redis]]:
    """A real redis-server's URL, and a client to write the events stream with."""
    with RedisServer() as server:
        client = connect(server.url)
        yield server.url, client
        client.close()


def test_each_curve_marks_the_reviews_deployed_and_recommended_ttl(review: Review) -> None:
    recs = review.recommendations.set_index("endpoint")
    assert (recs["deployed_ttl_seconds"] != recs["recommended_ttl_seconds"]).any()
    for endpoint in ENDPOINTS:
        fig = curve_figure(review, endpoint, "ttl|x|all")
        deployed = recs.at[endpoint, "deployed_ttl_seconds"]
        recommended = recs.at[endpoint, "recommended_ttl_seconds"]
        assert sorted(s.x0 for s in fig.layout.shapes) == sorted([deployed, recommended])
        labels = {a.text for a in fig.layout.annotations}
        assert {f"deployed {fmt_ttl(deployed)}", f"recommended {fmt_ttl(recommended)}"} <= labels
        traces = {t.name: t for t in fig.data}
        curve = review.curve[review.curve["endpoint"] == endpoint].sort_values("ttl_seconds")
        assert list(traces["hit ratio"].y) == pytest.approx(curve["hit_ratio"].tolist())
        assert list(traces["CI low"].y) == pytest.approx(curve["hit_ratio_low"].tolist())
        assert fig.layout.xaxis.type == "log" and fig.layout.uirevision == "ttl|x|all"


def test_the_rows_are_the_reviews(review: Review) -> None:
    recs = recommendation_rows(review)
    assert recs["endpoint"].tolist() == ENDPOINTS
    assert (
        recs["reason"].tolist() == review.recommendations.sort_values("endpoint")["reason"].tolist()
    )
    one = recommendation_rows(review, "valuation")
    assert one["endpoint"].tolist() == ["valuation"]
    table = curve_table(review, "areas")
    assert list(table.columns) == CURVE_TABLE_COLUMNS and set(table["endpoint"]) == {"areas"}
    assert len(curve_table(review)) == len(review.curve)
    for endpoint in ENDPOINTS:
        knee = recs.set_index("endpoint").at[endpoint, "knee_ttl_seconds"]
        shown = [f.text for f in flags(review, endpoint)]
        assert (f"knee {fmt_ttl(knee)}" in shown) == (knee == knee)
        once = review.one_hit.set_index("endpoint").at[endpoint, "one_hit_keys"]
        assert any("requested once" in s for s in shown) == (once > 0)


def test_last_weeks_prediction_against_this_weeks_result(
    review: Review, ttl_review_once: Path
) -> None:
    versus = versus_rows(review)
    weeks = sorted(review.history["week"].unique())
    assert versus["week"].unique().tolist() == [weeks[1]] and len(versus) == 3
    assert set(versus["previous_week"]) == {weeks[0]}
    history = review.history.set_index(["week", "endpoint"])
    for row in versus.itertuples():
        before = history.loc[(weeks[0], row.endpoint)]
        assert row.predicted_hit_ratio == pytest.approx(before["predicted_hit_ratio"])
        assert row.followed  # each week deployed what the one before recommended
    assert versus_rows(load_review(ttl_review_once)).empty


def test_no_review_yet_is_a_banner_saying_how_to_make_one(tmp_path: Path) -> None:
    view = render(config(tmp_path / "nothing", "redis://:pw@cache:6379/0"), None, NOW)
    said = str(view.banner)
    assert "banner-warning" in said and "No TTL review yet." in said
    assert "Run review now" in said and "cachewatch ttl-review" in said
    assert "redis://:***@cache:6379/0" in said and ":pw@" not in said
    assert view.content == [] and view.stamp is None


def test_a_review_fills_the_page(ttl_reviews: Path, review: Review) -> None:
    view = render(config(ttl_reviews), None, NOW)
    assert view.banner is None
    assert view.status.startswith(f"Week {review.meta['week']} · ")
    assert f"{review.meta['requests']:,} sampled requests" in view.status
    graphs = charts(view.content)
    assert [g.id["chart"] for g in graphs] == [f"ttl-curve-{e}" for e in ENDPOINTS]
    assert all(g.figure.layout.uirevision == f"ttl|{view.stamp}|all" for g in graphs)
    store = view.content[2].children[2]
    assert store.id == "ttl-curve-table-data" and len(store.data) == len(review.curve)
    recs, _, _, reality, versus = (text(part) for part in view.content)
    for reason in review.recommendations["reason"]:
        assert reason in recs
    for explanation in review.reality["explanation"]:
        assert explanation in reality
    assert "Last week's prediction vs this week's result" in versus and NEEDS_TWO not in versus


def test_one_review_says_it_needs_two(ttl_review_once: Path) -> None:
    view = render(config(ttl_review_once), None, NOW)
    assert NEEDS_TWO in text(view.content[-1])


def test_the_endpoint_filter_applies(ttl_reviews: Path) -> None:
    view = render(config(ttl_reviews), "valuation", NOW)
    assert [g.id["chart"] for g in charts(view.content)] == ["ttl-curve-valuation"]
    assert "areas:" not in text(view.content[0]) and "valuation:" in text(view.content[0])
    unknown = render(config(ttl_reviews), "search", NOW)
    assert "The review has no endpoint search." in str(unknown.banner)


def test_an_unreadable_review_is_a_banner(tmp_path: Path) -> None:
    (tmp_path / FILES["meta"]).write_text("{}")  # a meta.json without its tables
    view = render(config(tmp_path), None, NOW)
    assert "banner-error" in str(view.banner) and "could not be read" in str(view.banner)
    assert "Traceback" not in str(view.banner)


def test_a_refresh_changes_nothing_until_a_new_review_is_written(ttl_reviews: Path) -> None:
    ctx = AppContext(config(ttl_reviews), clock=lambda: NOW)
    first = page_outputs(ctx, "?endpoint=areas", "url", None)
    assert first[3] == f"{review_stamp(ttl_reviews)}|areas"
    assert page_outputs(ctx, "?endpoint=areas", "refresh", first[3]) == [no_update] * 4
    assert page_outputs(ctx, "?endpoint=areas", "refresh", "older|areas")[0] is None
    assert page_outputs(ctx, "", "refresh", first[3])[3].endswith("|None")


def test_run_now_with_redis_unreachable_is_a_message(tmp_path: Path, closed_port_url: str) -> None:
    url = closed_port_url.replace("http://", "redis://") + "/0"
    message, ran = run_outputs(ReviewRunner(tmp_path / "out", url), 1)
    said = str(message)
    assert "banner-error" in said and f"Redis is unreachable at {url}" in said
    assert "REDIS_URL" in said and "Traceback" not in said
    assert ran is no_update and not (tmp_path / "out").exists()


def test_run_now_with_an_empty_stream_says_so(
    tmp_path: Path, redis_stream: tuple[str, redis.Redis]
) -> None:
    message, ran = run_outputs(ReviewRunner(tmp_path / "out", redis_stream[0]), 1)
    assert "No sampled events in the last 7 days" in str(message) and ran is no_update
    assert latest_review(tmp_path / "out") is None


def recent_events(seed: int = 5) -> pd.DataFrame:
    """Two days of sampled events ending now, as the service writes them."""
    start = time.time() - 2 * 86400 - 60
    return sample_events(zipf_events(8_000, 500, seed=seed, days=2, start=start), 0.5)


def test_run_now_reviews_the_stream_and_the_page_shows_it(
    tmp_path: Path, redis_stream: tuple[str, redis.Redis]
) -> None:
    url, client = redis_stream
    events = recent_events()
    xadd_events(client, events)
    cfg = config(tmp_path / "ttl-review", url)
    ctx = AppContext(cfg)
    assert "No TTL review yet." in str(page_outputs(ctx, "", "url", None)[0])
    message, ran = run_outputs(ReviewRunner(cfg.ttl_review_dir, cfg.redis_url), 1)
    requests_ = int((events["event"] == "request").sum())
    assert f"Reviewed {requests_:,} sampled requests" in text(message) and ran is not no_update
    for name in ("curve", "ci", "recommendations", "reality", "meta", "history", "html"):
        assert (cfg.ttl_review_dir / FILES[name]).exists(), name
    meta = json.loads((cfg.ttl_review_dir / FILES["meta"]).read_text())
    assert meta["source"] == "stream cachewatch:v1:events" and meta["requests"] == requests_
    banner, status, content, _ = page_outputs(ctx, "", "ttl-ran", None)
    assert banner is None and status.startswith(f"Week {meta['week']}")
    assert [g.id["chart"] for g in charts(content)] == [f"ttl-curve-{e}" for e in ENDPOINTS]


def test_a_second_run_while_one_runs_is_refused(
    tmp_path: Path, redis_stream: tuple[str, redis.Redis]
) -> None:
    url, client = redis_stream
    xadd_events(client, recent_events(seed=6))
    runner = ReviewRunner(tmp_path / "out", url, wait_seconds=0)
    first = runner.run()
    second = runner.run()
    assert first.kind == "running" and "still running" in first.text
    assert second.kind == "running" and "already running" in second.text
    wait_until(lambda: not runner.running, 60, "the review started in the background")
    assert latest_review(tmp_path / "out") is not None
    runner.wait_seconds = 60
    assert runner.run().kind == "ok"  # once done, the next click runs again


@pytest.fixture
def served(
    dashboard_server: Callable[..., DashboardServer], closed_port_url: str, ttl_reviews: Path
) -> DashboardServer:
    redis_url = closed_port_url.replace("http://", "redis://") + "/0"
    return dashboard_server(closed_port_url, TTL_REVIEW_DIR=str(ttl_reviews), REDIS_URL=redis_url)


def test_over_http_the_page_and_the_button_answer(served: DashboardServer, review: Review) -> None:
    assert requests.get(f"{served.url}/ttl", timeout=10).status_code == 200
    response = call(served.url, page_callback(served.url, "ttl"), search="?endpoint=areas")
    answer = outputs(response)
    assert response.status_code == 200 and answer["ttl-banner.children"] is None
    assert answer["ttl-status.children"].startswith(f"Week {review.meta['week']}")
    run = find_callback(served.url, "ttl-run-message.children")
    assert run["running"]["running"] == {"ttl-run.disabled": True}  # disabled while it runs
    response = call(served.url, run, values={"ttl-run.n_clicks": 1}, changed="ttl-run.n_clicks")
    assert response.status_code == 200
    assert "Redis is unreachable" in json.dumps(outputs(response)["ttl-run-message.children"])
    assert "Traceback" not in served.log()
