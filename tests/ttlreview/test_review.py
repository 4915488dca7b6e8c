"""The whole review: files, load_review, history across weeks, the CLI on a trace."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ttlreview import load_review, run
from ttlreview.cli import add_review_arguments, main, parse_duration, parse_mapping, run_review
from ttlreview.curve import CI_COLUMNS, CURVE_COLUMNS
from ttlreview.flags import HOT_KEY_COLUMNS, ONE_HIT_COLUMNS
from ttlreview.history import HISTORY_COLUMNS
from ttlreview.reality import REALITY_COLUMNS
from ttlreview.recommend import RECOMMENDATION_COLUMNS
from ttlreview.synthetic import zipf_events
from ttlreview.timeline import DEFAULT_DEPLOYED_TTL
from ttlreview.trace import write_trace

WEEK = 7 * 86400.0


def _columns(path: Path) -> list[str]:
    return list(pd.read_csv(path, nrows=0).columns)


def test_cli_review_of_a_trace_writes_every_file(
    tmp_path: Path, small_trace: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace.csv"
    write_trace(small_trace, trace)
    out = tmp_path / "review"
    status = main(
        [
            "review",
            "--trace",
            str(trace),
            "--out",
            str(out),
            "--ttls",
            "1m,5m,1h,6h",
            "--staleness-budget",
            "2%",
            "--memory-budget",
            "32MiB",
            "--no-progress",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    lines = [line.split(":")[0] for line in printed.splitlines()]
    assert lines[:3] == ["areas", "property_types", "valuation"]
    assert _columns(out / "ttl_curve.csv") == list(CURVE_COLUMNS)
    assert _columns(out / "ttl_curve_ci.csv") == list(CI_COLUMNS)
    assert _columns(out / "recommendations.csv") == list(RECOMMENDATION_COLUMNS)
    assert _columns(out / "reality_check.csv") == list(REALITY_COLUMNS)
    assert _columns(out / "hot_keys.csv") == list(HOT_KEY_COLUMNS)
    assert _columns(out / "one_hit_keys.csv") == list(ONE_HIT_COLUMNS)
    assert _columns(out / "history.csv") == list(HISTORY_COLUMNS)
    curve = pd.read_csv(out / "ttl_curve.csv")
    # 4 candidates + the deployed TTLs (1 h is one of them, 5 min too): 4 TTLs x 3 endpoints
    assert sorted(curve["ttl_seconds"].unique()) == [60, 300, 3600, 21600]
    assert len(curve) == 12
    summary = (out / "summary.md").read_text()
    assert "## Recommendations" in summary and "## Check against reality" in summary
    page = (out / "report.html").read_text()
    # plotly.js inlined once, nothing fetched from elsewhere
    assert not re.search(r"<script[^>]*\bsrc=", page) and "plotly.js v" in page
    assert page.count("Plotly.newPlot") == 3 and len(page) > 1_000_000
    meta = json.loads((out / "meta.json").read_text())
    assert meta["budgets"]["staleness"] == 0.02 and meta["source"].startswith("trace")
    assert (out / "reviews" / meta["week"] / "recommendations.csv").exists()


def test_cli_reports_bad_input_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,endpoint,key,event,result\n1,areas,a,fetch,\n")
    assert main(["review", "--trace", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "unknown event" in capsys.readouterr().err
    parser = argparse.ArgumentParser()
    add_review_arguments(parser)
    args = parser.parse_args(["--trace", str(tmp_path / "missing.csv"), "--out", str(tmp_path)])
    assert run_review(args) == 2


def test_argument_parsers() -> None:
    assert parse_duration("90") == 90 and parse_duration("5m") == 300
    assert parse_duration("1.5h") == 5400 and parse_duration("1d") == 86400
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("soon")
    assert parse_mapping("areas=1h,valuation=5m", parse_duration) == {
        "areas": 3600,
        "valuation": 300,
    }


def test_load_review_and_history_across_two_weeks(tmp_path: Path) -> None:
    first = zipf_events(8_000, 800, seed=1, days=7)
    # the next week: same traffic shape, the 6 h recommendation for areas deployed
    second = zipf_events(
        8_000, 800, seed=1, days=7, start=1_760_000_000.0 + WEEK, deployed_ttl={"areas": 21600}
    )
    options: dict[str, Any] = {"ttls": [60, 300, 3600, 21600], "burst_threshold": 3}
    one = run(tmp_path, events=first, **options)
    two = run(tmp_path, events=second, **options)
    assert one.meta["week"] != two.meta["week"]
    loaded = load_review(tmp_path)
    pd.testing.assert_frame_equal(
        loaded.curve[list(CURVE_COLUMNS)], two.curve[list(CURVE_COLUMNS)], check_dtype=False
    )
    assert set(CI_COLUMNS) <= set(loaded.curve.columns)
    assert loaded.recommendations["reason"].tolist() == two.recommendations["reason"].tolist()
    assert loaded.meta["week"] == two.meta["week"]
    history = loaded.history
    assert len(history) == 6 and history["week"].nunique() == 2
    versus = loaded.prediction_vs_result()
    assert len(versus) == 3 and set(versus["week"]) == {two.meta["week"]}
    areas = versus.set_index("endpoint").loc["areas"]
    assert areas["deployed_ttl_seconds"] == 21600
    first_rec = one.recommendations.set_index("endpoint").loc["areas"]
    assert areas["predicted_hit_ratio"] == pytest.approx(first_rec["hit_ratio_recommended"])
    assert areas["followed"] == (first_rec["recommended_ttl_seconds"] == 21600)
    # a second review of the same week replaces its rows instead of adding more
    run(tmp_path, events=second, **options)
    assert len(load_review(tmp_path).history) == 6
    assert "Last week's prediction" in (tmp_path / "summary.md").read_text()


def test_load_review_of_an_empty_folder_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_review(tmp_path)


def test_default_deployed_ttls_mirror_the_service_settings() -> None:
    from service.config import DEFAULT_TTL

    assert dict(DEFAULT_DEPLOYED_TTL) == dict(DEFAULT_TTL)


def test_figure_marks_deployed_recommended_and_knee_where_they_are() -> None:
    import math

    from ttlreview.html import endpoint_figure

    ttls = [30, 300, 3600, 86400]
    curve = pd.DataFrame(
        {
            "endpoint": "areas",
            "ttl_seconds": ttls,
            "hit_ratio": [0.2, 0.8, 0.9, 0.95],
            "hit_ratio_low": [0.1, 0.7, 0.85, 0.9],
            "hit_ratio_high": [0.3, 0.85, 0.95, 0.97],
            "stale_ratio": [0, 0, 0.001, 0.01],
            "est_memory_bytes": [1e3, 1e4, 1e5, 1e6],
            "backend_per_second": [8, 2, 1, 0.5],
            "deployed": [False, False, True, False],
        }
    )
    rec = pd.Series({"recommended_ttl_seconds": 300.0, "knee_ttl_seconds": 300.0})
    fig = endpoint_figure(curve, rec, "areas")
    # on a log axis, lines take data units and annotations log10 of them
    assert sorted(shape.x0 for shape in fig.layout.shapes) == [300, 3600]
    assert sorted(a.x for a in fig.layout.annotations) == pytest.approx(
        [math.log10(300), math.log10(3600)]
    )
    knee = [trace for trace in fig.data if (trace.name or "").startswith("knee")]
    assert list(knee[0].x) == [300.0] and list(knee[0].y) == [0.8]


def test_figure_draws_the_band_only_when_the_curve_has_one() -> None:
    from ttlreview.html import endpoint_figure

    curve = pd.DataFrame(
        {
            "endpoint": "areas",
            "ttl_seconds": [60, 3600],
            "hit_ratio": [0.5, 0.9],
            "hit_ratio_low": [0.4, 0.85],
            "hit_ratio_high": [0.6, 0.95],
            "stale_ratio": [0.0, 0.01],
            "est_memory_bytes": [1e3, 1e5],
            "backend_per_second": [2.0, 0.5],
            "deployed": [False, True],
        }
    )
    names = [t.name for t in endpoint_figure(curve, None, "areas").data]
    assert names == ["CI high", "CI low", "confidence band", "hit ratio", "stale hits"]
    at_rate_1 = curve.assign(hit_ratio_low=curve["hit_ratio"], hit_ratio_high=curve["hit_ratio"])
    names = [t.name for t in endpoint_figure(at_rate_1, None, "areas").data]
    assert names == ["hit ratio", "stale hits"]
    fig = endpoint_figure(curve.drop(columns=["hit_ratio_low", "hit_ratio_high"]), None, "areas")
    assert [t.name for t in fig.data] == ["hit ratio", "stale hits"]
    assert list(fig.layout.xaxis.ticktext) == ["1 min", "5 min", "15 min", "1 h"]
