"""Reading the event stream from a real redis-server, and the stream side of the CLI."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import redis

from tests.support.procs import RedisServer
from tests.ttlreview.streams import xadd_events
from ttlreview.cli import main
from ttlreview.events import EVENT_COLUMNS, STREAM_KEY
from ttlreview.stream import connect, export_trace, read_stream, stream_entries
from ttlreview.synthetic import zipf_events
from ttlreview.trace import read_trace


@pytest.fixture
def recent_events() -> pd.DataFrame:
    """Two days of sampled events ending now, so --days windows select them."""
    now = time.time()
    events = zipf_events(3_000, 300, seed=7, days=2, start=now - 2 * 86400 - 60)
    events["rate"] = 0.5
    return events


def test_read_stream_returns_the_events_written(
    redis_server: RedisServer, recent_events: pd.DataFrame
) -> None:
    client = connect(redis_server.url)
    xadd_events(client, recent_events)
    frame = read_stream(client, batch=250)  # 3000+ entries: many exclusive-range batches
    assert list(frame.columns) == list(EVENT_COLUMNS)
    assert len(frame) == len(recent_events)
    for column in ("ts", "endpoint", "key", "event", "result", "reason", "rate"):
        assert frame[column].tolist() == recent_events[column].tolist(), column
    np.testing.assert_array_equal(frame["size"].to_numpy(), recent_events["size"].to_numpy())
    batches = list(stream_entries(client, batch=1000))
    assert [len(b) for b in batches][:3] == [1000, 1000, 1000]


def test_time_window_maps_to_stream_ids(
    redis_server: RedisServer, recent_events: pd.DataFrame
) -> None:
    client = connect(redis_server.url)
    xadd_events(client, recent_events)
    since = time.time() - 86400
    frame = read_stream(client, since=since, batch=500)
    expected = recent_events[recent_events["ts"] >= np.floor(since * 1000) / 1000]
    assert len(frame) == len(expected) and frame["ts"].min() >= since - 0.001
    assert read_stream(client, until=recent_events["ts"].min() - 1).empty


def test_an_entry_without_ts_takes_its_id_time(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.xadd(
        STREAM_KEY,
        {"endpoint": "areas", "key": "k", "event": "request", "result": "hit", "rate": "1"},
        id="1700000000123-0",
    )
    frame = read_stream(client)
    assert frame["ts"].tolist() == [1700000000.123]
    assert frame["size"].isna().all()


def test_export_then_review_the_trace_matches_reviewing_the_stream(
    redis_server: RedisServer, recent_events: pd.DataFrame, tmp_path: Path
) -> None:
    client = connect(redis_server.url)
    xadd_events(client, recent_events)
    buffer = io.StringIO()
    rows, rates = export_trace(client, buffer)
    assert rows == len(recent_events) and set(rates.values()) == {0.5}
    trace = read_trace(io.StringIO(buffer.getvalue()), rate=0.5)
    assert trace["key"].tolist() == recent_events["key"].tolist()
    common = [
        "--ttls",
        "1m,1h",
        "--no-progress",
        "--deployed-ttl",
        "areas=1h,property_types=1h,valuation=5m",
        "--entry-size",
        "areas=1000,property_types=1000,valuation=1000",
    ]
    path = tmp_path / "trace.csv"
    path.write_text(buffer.getvalue())
    assert (
        main(
            [
                "review",
                "--trace",
                str(path),
                "--rate",
                "0.5",
                "--out",
                str(tmp_path / "from-trace"),
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "review",
                "--redis-url",
                redis_server.url,
                "--days",
                "3",
                "--out",
                str(tmp_path / "from-stream"),
                *common,
            ]
        )
        == 0
    )
    a = pd.read_csv(tmp_path / "from-trace" / "ttl_curve.csv")
    b = pd.read_csv(tmp_path / "from-stream" / "ttl_curve.csv")
    # the same curve, but memory: the stream knows each entry's size, the trace does not
    pd.testing.assert_frame_equal(
        a.drop(columns="est_memory_bytes"), b.drop(columns="est_memory_bytes")
    )
    assert (a["backend_per_second"] > 0).all()
    areas = (a["endpoint"] == "areas").to_numpy()  # ~6 kB entries in the stream vs 1000 B
    assert (b["est_memory_bytes"][areas] > 3 * a["est_memory_bytes"][areas]).all()


def test_cli_export_to_a_file_and_unreachable_redis(
    redis_server: RedisServer,
    recent_events: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    xadd_events(connect(redis_server.url), recent_events)
    out = tmp_path / "sub" / "trace.csv"
    assert main(["export", "--redis-url", redis_server.url, "--days", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "events written" in err and "--rate" in err
    exported = read_trace(out)
    assert 0 < len(exported) < len(recent_events)
    dead = RedisServer()  # a free port nobody listens on
    dead.cleanup()
    assert main(["export", "--redis-url", f"redis://127.0.0.1:{dead.port}/0"]) == 2
    assert (
        main(
            [
                "review",
                "--redis-url",
                f"redis://127.0.0.1:{dead.port}/0",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )


def test_review_of_an_empty_stream_says_there_is_nothing(
    redis_server: RedisServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["review", "--redis-url", redis_server.url, "--out", str(tmp_path)])
    assert status == 2
    assert "no requests" in capsys.readouterr().err
    assert not (tmp_path / "ttl_curve.csv").exists()
