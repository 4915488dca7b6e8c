from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from tests.ttlreview.conftest import make_events
from ttlreview.curve import compute_curve
from ttlreview.events import EventError, consistent_sample, normalize, sample_events
from ttlreview.sampling import is_sampled
from ttlreview.simulate import replay_stats
from ttlreview.timeline import build_timelines
from ttlreview.trace import TRACE_COLUMNS, read_trace, write_trace


def test_normalize_types_sorts_and_rejects_bad_input() -> None:
    frame = normalize(
        pd.DataFrame(
            {
                "ts": ["5", "1"],
                "endpoint": ["areas"] * 2,
                "key": ["b", "a"],
                "event": ["request"] * 2,
            }
        )
    )
    assert frame["ts"].tolist() == [1.0, 5.0]
    assert frame["result"].tolist() == ["", ""]
    assert frame["size"].isna().all() and frame["rate"].tolist() == [1.0, 1.0]
    with pytest.raises(EventError, match="unknown event"):
        normalize(pd.DataFrame({"ts": [1], "endpoint": ["a"], "key": ["k"], "event": ["get"]}))
    with pytest.raises(EventError, match="rate"):
        normalize(
            pd.DataFrame(
                {"ts": [1], "endpoint": ["a"], "key": ["k"], "event": ["request"], "rate": [0]}
            )
        )


def test_sample_events_keeps_whole_keys_and_all_star_events() -> None:
    rows = [(i, f"k{i % 50}", "request") for i in range(500)] + [(3, "*", "invalidate")]
    sampled = sample_events(make_events(rows), 0.3)
    keys = set(sampled.loc[sampled["event"] == "request", "key"])
    assert keys == {f"k{i}" for i in range(50) if is_sampled("areas", f"k{i}", 0.3)}
    assert (sampled.groupby("key").size().drop("*") == 10).all()
    assert (sampled["key"] == "*").sum() == 1
    assert set(sampled["rate"]) == {0.3}


def test_consistent_sample_cuts_an_endpoint_to_its_lowest_rate() -> None:
    early = sample_events(make_events([(i, f"k{i}", "request") for i in range(400)]), 0.5)
    late = sample_events(make_events([(1000 + i, f"k{i}", "request") for i in range(400)]), 0.2)
    other = make_events([(i, f"v{i}", "request") for i in range(40)], endpoint="valuation")
    mixed = normalize(pd.concat([early, late, other]))
    fixed = consistent_sample(mixed)
    areas = fixed[fixed["endpoint"] == "areas"]
    assert set(areas["rate"]) == {0.2}
    assert set(areas["key"]) == set(late["key"])
    assert (fixed["endpoint"] == "valuation").sum() == 40


def test_csv_round_trip_keeps_events_and_results(small_trace: pd.DataFrame) -> None:
    buffer = io.StringIO()
    assert write_trace(small_trace, buffer) == len(small_trace)
    text = buffer.getvalue()
    assert text.splitlines()[0] == ",".join(TRACE_COLUMNS)
    back = read_trace(io.StringIO(text))
    for column in TRACE_COLUMNS:
        assert back[column].tolist() == small_trace[column].tolist(), column
    # and it replays to the same curve (sizes and TTLs aside, which a trace does not carry)
    bare = small_trace.assign(size=np.nan, ttl=np.nan)
    ttls = [60, 3600]
    curves = [
        compute_curve(tl, replay_stats(tl, ttls), ttls)
        for tl in (build_timelines(bare), build_timelines(back))
    ]
    pd.testing.assert_frame_equal(curves[0], curves[1])


def test_read_trace_rate_and_missing_columns() -> None:
    text = "ts,endpoint,key,event,result\n1,areas,a,request,hit\n2,areas,*,change,\n"
    assert read_trace(io.StringIO(text), rate=0.1)["rate"].tolist() == [0.1, 0.1]
    with pytest.raises(EventError, match="lacks"):
        read_trace(io.StringIO("ts,endpoint,key\n1,areas,a\n"))
