from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard.figures import (
    Mark,
    Target,
    Unit,
    empty_figure,
    figure_to_csv,
    keep_zoom,
    timeseries,
)


def frame(points: dict[str, list[float | None]], start: int = 1_700_000_000, step: int = 60):
    rows = [
        {"time": pd.Timestamp(start + i * step, unit="s", tz="UTC"), "series": name, "value": v}
        for name, values in points.items()
        for i, v in enumerate(values)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["time", "series", "value"])


def test_one_trace_per_series_in_the_given_order_with_target_and_mark() -> None:
    fig = timeseries(
        frame({"b": [0.5, 0.6], "a": [0.7, 0.8], "all endpoints": [0.6, 0.7]}),
        title="Hit ratio",
        unit="ratio",
        uirevision="rollout|24h|all",
        target=Target(0.8, "target 80%"),
        mark=Mark(datetime(2023, 11, 14, 22, 14, tzinfo=UTC), "rollout start"),
        order=["all endpoints"],
    )
    assert [t.name for t in fig.data] == ["all endpoints", "a", "b"]  # no span: no anchor
    assert fig.layout.uirevision == "rollout|24h|all"
    assert fig.layout.yaxis.tickformat == ".0%"
    lines = [s for s in fig.layout.shapes]
    assert any(s.y0 == 0.8 and s.y1 == 0.8 for s in lines)  # the target
    assert any(s.x0 == "2023-11-14T22:14:00+00:00" for s in lines)  # the rollout
    texts = [a.text for a in fig.layout.annotations]
    assert "target 80%" in texts and "rollout start" in texts


def test_missing_points_show_as_gaps_and_the_axis_spans_the_range() -> None:
    fig = timeseries(
        frame({"used": [1.0, None, 3.0]}),
        title="Memory",
        unit="bytes",
        uirevision="r",
        step=60,
        span=(1_699_999_000, 1_700_000_500),
    )
    assert list(fig.data[0].y) == [1.0, None, 3.0]
    anchor = fig.data[-1]  # spans the range without data: the axis shows all of it
    assert anchor.x == ("2023-11-14T21:56:40+00:00", "2023-11-14T22:21:40+00:00")
    assert anchor.y == (None, None) and anchor.showlegend is False
    assert fig.layout.xaxis.range is None  # autorange: the user's zoom survives refreshes


def test_latency_is_shown_in_ms_on_a_log_axis() -> None:
    fig = timeseries(frame({"hit p50": [0.002]}), title="L", unit="seconds", uirevision="r")
    assert list(fig.data[0].y) == [2.0]
    assert fig.layout.yaxis.type == "log"


def test_series_that_stay_at_zero_are_hidden_but_none_at_all_still_shows() -> None:
    some = timeseries(
        frame({"get": [0, 2.0], "set": [0, 0]}), title="E", unit="per_second", uirevision="r",
        hide_zero=True,
    )  # fmt: skip
    assert [t.name for t in some.data] == ["get"]
    none = timeseries(
        frame({"get": [0, 0], "set": [0, 0]}), title="E", unit="per_second", uirevision="r",
        hide_zero=True,
    )  # fmt: skip
    assert [(t.name, list(t.y)) for t in none.data] == [("total", [0.0, 0.0])]


def test_an_empty_frame_gives_a_figure_that_says_so() -> None:
    fig = timeseries(frame({}), title="Keys", unit="count", uirevision="r")
    assert fig.data == () and fig.layout.annotations[0].text == "No data for this range yet"
    assert empty_figure("Keys", "r", "Loading…").layout.annotations[0].text == "Loading…"


def test_csv_holds_every_point_the_chart_shows() -> None:
    fig = timeseries(
        frame({"hit p50": [0.001, None, 0.003], "miss p50": [0.05, 0.06, 0.07]}),
        title="L", unit="seconds", uirevision="r", step=60,
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(figure_to_csv(fig.to_plotly_json()))))
    assert len(rows) == 5  # the gap is left out
    assert rows[0] == {"series": "hit p50", "x": "2023-11-14T22:13:20+00:00", "y": "1.0"}
    assert [r["y"] for r in rows if r["series"] == "miss p50"] == ["50.0", "60.0", "70.0"]


def test_csv_reads_plotlys_typed_arrays_too() -> None:
    y = np.array([1.5, 2.5])
    figure = {
        "data": [
            {"name": "keys", "x": ["t1", "t2"],
             "y": {"dtype": "f8", "bdata": base64.b64encode(y.tobytes()).decode()}}
        ]
    }  # fmt: skip
    assert figure_to_csv(figure).splitlines() == ["series,x,y", "keys,t1,1.5", "keys,t2,2.5"]


@pytest.mark.parametrize("unit", ["ratio", "seconds", "bytes", "per_second", "count", "state"])
def test_plotly_accepts_every_figure_it_did_not_validate(unit: Unit) -> None:
    fig = timeseries(
        frame({"a": [0.5, None, 0.7], "b": [0.0, 0.1, 0.2]}), title="T", unit=unit,
        uirevision="r", step=60, span=(1_699_999_000, 1_700_000_500), stacked=unit == "count",
        target=Target(0.5, "t"), mark=Mark(datetime(2023, 11, 14, 22, 14, tzinfo=UTC), "m"),
    )  # fmt: skip
    keep_zoom(
        fig, {"xaxis.range[0]": "2023-11-14T22:14:00", "xaxis.range[1]": "2023-11-14T22:15:00"}
    )
    checked = go.Figure(fig.to_plotly_json())  # validates every property; raises if one is wrong
    assert checked.to_plotly_json() == fig.to_plotly_json()
    assert checked.layout.template.layout.plot_bgcolor == "white"
    go.Figure(empty_figure("E", "r").to_plotly_json())
