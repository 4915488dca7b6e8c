"""`cachewatch up` end to end: every part starts, Prometheus sees the service under the demo
traffic, and Ctrl-C (SIGINT to the foreground process group) leaves nothing running."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cachewatch.stack.config import dashboard_available, port_free
from tests.support.procs import REPO, http_ok, wait_until

#: The live hit ratio: the replicas' own series, not the backfilled demo history.
LIVE = 'instance!="demo"'
LIVE_HIT_RATIO = (
    f"sum(rate(cachewatch_cache_hits_total{{{LIVE}}}[5m])) / "
    f"(sum(rate(cachewatch_cache_hits_total{{{LIVE}}}[5m])) + "
    f"sum(rate(cachewatch_cache_misses_total{{{LIVE}}}[5m])))"
)
DEMO_HISTORY = 'count(count_over_time(cachewatch_cache_hits_total{instance="demo"}[24h]))'


def _up(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """`cachewatch up` in its own session (as a terminal's foreground job), output to cwd/up.log."""
    with open(cwd / "up.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cachewatch", "up"],
            env={**os.environ, **env, "PYTHONPATH": str(REPO)},
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _query(url: str, expr: str) -> list[dict]:
    body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


@pytest.mark.slow
def test_up_runs_the_stack_and_ctrl_c_stops_all_of_it(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    prometheus = f"http://127.0.0.1:{stack_env['PROMETHEUS_PORT']}"
    ports = [int(stack_env["SERVICE_PORT"]), int(stack_env["SERVICE_PORT"]) + 1]
    ports += [
        int(stack_env[v])
        for v in ("PROMETHEUS_PORT", "ALERTMANAGER_PORT", "REDIS_PORT", "REDIS_EXPORTER_PORT")
    ]
    if dashboard_available():
        ports.append(int(stack_env["DASHBOARD_PORT"]))
    rules = sorted((REPO / "monitoring" / "rules").glob("*.yml"))
    proc = _up(stack_env, tmp_path)
    try:
        # Both replicas up (file_sd), Redis scraped through the exporter, and demo traffic
        # giving a hit ratio: within 120 s of a cold start on a busy machine.
        wait_until(
            lambda: len(_query(prometheus, 'up{job="cachewatch"} == 1')) == 2,
            120,
            "both service replicas to be up in Prometheus",
            interval=1,
        )
        wait_until(
            lambda: bool(_query(prometheus, "redis_up == 1")), 60, "redis_exporter", interval=1
        )
        wait_until(
            lambda: bool(_query(prometheus, LIVE_HIT_RATIO)),
            90,
            "a live hit ratio from the demo traffic",
            interval=1,
        )
        value = float(_query(prometheus, LIVE_HIT_RATIO)[0]["value"][1])
        assert 0 <= value <= 1
        # The first start backfilled 24 h of demo history, every endpoint's counters in it.
        assert float(_query(prometheus, DEMO_HISTORY)[0]["value"][1]) == 3
        if rules:
            assert _query(prometheus, "job:cachewatch_cache_hit_ratio:ratio_rate5m")
        if dashboard_available():
            dashboard = f"http://127.0.0.1:{stack_env['DASHBOARD_PORT']}/"
            wait_until(http_ok(dashboard), 60, "the dashboard", interval=1)
        assert proc.poll() is None, "cachewatch up exited early"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    out = (tmp_path / "up.log").read_text()
    assert proc.returncode == 0, out[-3000:]
    assert "http://127.0.0.1:" + stack_env["PROMETHEUS_PORT"] in out
    assert "cachewatch up: stopped" in out
    assert "seeding 5,000 listings" in out and "cachewatch up: ready:" in out
    pids = [int(p) for p in re.findall(r"started \(pid=(\d+)\)", out)]
    assert len(pids) >= 7, out[
        -3000:
    ]  # redis, 2 services, exporter, prometheus, alertmanager, load
    # Every process honcho started led its own process group: each group must be empty now.
    wait_until(lambda: not any(_group_alive(p) for p in pids), 10, "every process to exit")
    assert all(port_free(p) for p in ports)
    state = Path(stack_env["CACHEWATCH_STATE_DIR"])
    assert (state / "redis" / "appendonlydir").is_dir()  # Redis kept its data under the state


def test_a_port_in_use_stops_up_before_anything_starts(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    port = int(stack_env["REDIS_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        started = time.monotonic()
        proc = _up(stack_env, tmp_path)
        proc.wait(timeout=60)
    out = (tmp_path / "up.log").read_text()
    assert proc.returncode == 2
    assert f"port {port} (REDIS_PORT, for redis) is already in use" in out
    assert "nothing was started" in out
    assert time.monotonic() - started < 30
    assert not Path(stack_env["CACHEWATCH_STATE_DIR"]).exists()
