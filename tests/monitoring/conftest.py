"""Fixtures for the monitoring tests: the repository's monitoring files, and a helper that runs
a command-line checker (promtool, amtool, docker-compose) and fails with its output.

    def test_config(run_tool, monitoring):
        run_tool("promtool", "check", "config", monitoring / "prometheus.yml")
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.procs import ManagedProcess, free_port, http_ok

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
RULE_FILES = sorted((MONITORING / "rules").glob("*.yml"))

RunTool = Callable[..., subprocess.CompletedProcess[str]]


def run_tool(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO,
    check: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a checker; unless `check` is false, fail the test with its output on a non-zero exit."""
    cmd = [str(a) for a in args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )
    return proc


def load_rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in RULE_FILES:
        groups += yaml.safe_load(path.read_text())["groups"]
    return groups


@pytest.fixture(name="run_tool")
def run_tool_fixture() -> RunTool:
    return run_tool


@pytest.fixture
def monitoring() -> Path:
    return MONITORING


@pytest.fixture(scope="session")
def rule_groups() -> list[dict[str, Any]]:
    return load_rule_groups()


@pytest.fixture(scope="session")
def alert_rules(rule_groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in rule_groups for rule in group["rules"] if "alert" in rule]


@pytest.fixture(scope="session")
def recording_rules(rule_groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in rule_groups for rule in group["rules"] if "record" in rule]


class Alertmanager(ManagedProcess):
    """Debian's `prometheus-alertmanager` with the given configuration text, no clustering."""

    name = "alertmanager"

    def __init__(self, config_text: str) -> None:
        super().__init__()
        self.config_path = self.dir / "alertmanager.yml"
        self.config_path.write_text(config_text)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            "prometheus-alertmanager",
            f"--config.file={self.config_path}",
            f"--storage.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
        ]

    def is_ready(self) -> bool:
        return http_ok(f"{self.url}/-/ready")()


class WebhookSink:
    """An HTTP server on a free loopback port that keeps every JSON body POSTed to it.

    with WebhookSink() as sink:
        ...  # point a webhook at sink.url, then read sink.bodies
    """

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                sink.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
