"""`cachewatch load` as a command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.procs import REPO, ServiceProcess, free_port, wait_until


def _load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cachewatch", "load", *args],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip


def test_prints_a_summary_and_writes_json(service: ServiceProcess, tmp_path: Path) -> None:
    out = _load(
        "--url",
        service.url,
        "--requests",
        "40",
        "--rate",
        "0",
        "--keys",
        "8",
        "--concurrency",
        "1",
        "--seed",
        "3",
        "--json",
        str(tmp_path / "s.json"),
    )
    assert out.returncode == 0, out.stderr
    assert "hit ratio" in out.stdout and "p95" in out.stdout
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["requests"] == 42
    assert data["cache"]["MISS"] == data["distinct_keys"]
    assert data["cache"]["HIT"] == 42 - data["distinct_keys"]


def test_refuses_a_remote_target() -> None:
    out = _load("--url", "http://192.0.2.1:8000", "--requests", "1")
    assert out.returncode == 2
    assert "not a loopback address" in out.stderr and "--allow-remote" in out.stderr


def test_reports_a_missing_service() -> None:
    out = _load("--url", f"http://127.0.0.1:{free_port()}", "--requests", "1")
    assert out.returncode == 1 and "did not answer" in out.stderr


def test_rejects_a_bad_mix() -> None:
    out = _load("--url", "http://127.0.0.1:1", "--mix", "search=1")
    assert out.returncode == 2 and "mix entries" in out.stderr


def test_ctrl_c_ends_the_run_with_its_summary(service: ServiceProcess) -> None:
    before = service.metric("cachewatch_cache_misses_total")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cachewatch", "load", "--url", service.url, "--rate", "20",
         "--duration", "60", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    wait_until(lambda: service.metric("cachewatch_cache_misses_total") > before, 30, "traffic")
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 15
    assert "X-Cache" in out and "hit ratio" in out
