from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from dashboard.prom import PromClient, PromError, scalar
from tests.support.procs import PrometheusServer


def test_an_instant_query_gives_one_row_per_series_with_label_columns(
    client: PromClient, rollout_t0: int
) -> None:
    frame = client.query("cachewatch_cache_ttl_seconds", at=rollout_t0)
    assert set(frame.columns) >= {"endpoint", "instance", "job", "value", "__name__"}
    assert len(frame) == 6  # 3 endpoints x 2 instances
    ttl = frame.groupby("endpoint")["value"].max().to_dict()
    assert ttl == {"areas": 3600.0, "property_types": 3600.0, "valuation": 600.0}


def test_a_range_query_gives_one_row_per_sample_with_utc_times(
    client: PromClient, rollout_t0: int
) -> None:
    frame = client.query_range(
        'sum(cachewatch_redis_keys{instance="127.0.0.1:8001"})', rollout_t0 - 600, rollout_t0, 60
    )
    assert list(frame.columns) == ["time", "value"]
    assert len(frame) == 11
    assert frame["time"].iloc[-1] == pd.Timestamp(rollout_t0, unit="s", tz="UTC")
    assert set(frame["value"]) == {2000.0}


def test_empty_answers_keep_their_columns(client: PromClient, rollout_t0: int) -> None:
    assert scalar(client.query("sum(no_such_metric)", at=rollout_t0)) is None
    frame = client.query_range("no_such_metric", rollout_t0 - 60, rollout_t0, 15)
    assert frame.empty and list(frame.columns) == ["time", "value"]


def test_queries_run_in_parallel_by_name(client: PromClient, rollout_t0: int) -> None:
    got = client.query_many({"one": "vector(1)", "two": "vector(2)"}, at=rollout_t0)
    assert {k: scalar(v) for k, v in got.items()} == {"one": 1.0, "two": 2.0}


def test_label_values_and_recording_rules(client: PromClient, rollout_t0: int) -> None:
    names = client.label_values(
        "endpoint", "cachewatch_cache_ttl_seconds", rollout_t0 - 3600, rollout_t0
    )
    assert names == ["areas", "property_types", "valuation"]
    assert client.recording_rules() == frozenset()  # this Prometheus loads no rules


def test_a_query_prometheus_rejects_is_a_query_error(client: PromClient) -> None:
    with pytest.raises(PromError) as caught:
        client.query("sum(rate(cachewatch_cache_hits_total[5m])")
    assert caught.value.kind == "query"
    assert "parse error" in caught.value.detail


def test_a_closed_port_is_unreachable(closed_port_url: str) -> None:
    with pytest.raises(PromError) as caught:
        PromClient(closed_port_url, timeout=2).query("up")
    assert caught.value.kind == "unreachable"
    assert "PROMETHEUS_URL" in caught.value.hint and closed_port_url in caught.value.hint


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (backlog), never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(PromError) as caught:
            PromClient(url, timeout=0.5).query("up")
    assert caught.value.kind == "timeout"


@pytest.fixture
def not_prometheus() -> Iterator[str]:
    """A web server answering HTML, as a proxy's login page or the wrong port would."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b"<html><body>Please log in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_answer_that_is_not_prometheus_is_invalid(not_prometheus: str) -> None:
    with pytest.raises(PromError) as caught:
        PromClient(not_prometheus, timeout=2).query("up")
    assert caught.value.kind == "invalid"
    assert "not a Prometheus API answer" in caught.value.detail


def test_the_real_prometheus_answers_through_the_client(
    rollout_prometheus: PrometheusServer,
) -> None:
    client = PromClient(rollout_prometheus.url + "/", timeout=5)
    assert client.url == rollout_prometheus.url
    assert scalar(client.query("vector(42)")) == 42.0
