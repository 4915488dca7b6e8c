"""Fixtures for the monitoring tests: the repository's monitoring files, and a helper that runs
a command-line checker (promtool, amtool, docker-compose) and fails with its output.

    def test_config(run_tool, monitoring):
        run_tool("promtool", "check", "config", monitoring / "prometheus.yml")
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

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
