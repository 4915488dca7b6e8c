"""The monitoring artifact passes Prometheus's and Alertmanager's own checkers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.monitoring.conftest import MONITORING, RULE_FILES, RunTool

UNIT_TESTS = sorted((MONITORING / "tests").glob("*.yml"))


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.docker.yml"])
def test_prometheus_config_is_valid(run_tool: RunTool, monitoring: Path, config: str) -> None:
    out = run_tool("promtool", "check", "config", monitoring / config).stdout
    # the relative rule_files glob found the rule files, from either config
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in out


def test_rules_pass_lint(run_tool: RunTool) -> None:
    assert len(RULE_FILES) >= 2
    run_tool("promtool", "check", "rules", "--lint=all", "--lint-fatal", *RULE_FILES)


def test_rule_unit_tests_pass(run_tool: RunTool) -> None:
    assert [p.name for p in UNIT_TESTS] == ["alerts_test.yml", "recording_test.yml"]
    run_tool("promtool", "test", "rules", *UNIT_TESTS, timeout=240)


def test_a_broken_rule_fails_its_unit_test(run_tool: RunTool, tmp_path: Path) -> None:
    """The unit tests can fail: a hit ratio that forgot the misses does not pass them."""
    rules = tmp_path / "rules"
    rules.mkdir()
    broken = 0
    for path in RULE_FILES:
        text = path.read_text()
        # the hit ratio divides by lookups; divide by requests (bypasses included) instead
        target = "(endpoint:cachewatch_cache_lookups:rate5m > 0)"
        broken += text.count(target)
        text = text.replace(target, "(endpoint:cachewatch_requests:rate5m > 0)")
        (rules / path.name).write_text(text)
    assert broken == 1
    tests = tmp_path / "tests"
    tests.mkdir()
    test_file = tests / "recording_test.yml"
    test_file.write_text((MONITORING / "tests" / "recording_test.yml").read_text())
    proc = run_tool("promtool", "test", "rules", test_file, check=False, timeout=240)
    assert proc.returncode != 0
    assert "endpoint:cachewatch_cache_hit_ratio:ratio_rate5m" in proc.stdout + proc.stderr


def test_alertmanager_config_is_valid(run_tool: RunTool, monitoring: Path) -> None:
    out = run_tool("amtool", "check-config", monitoring / "alertmanager.yml").stdout
    assert "2 inhibit rules" in out


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "alertname=RedisDown"], "critical"),
        (["severity=warning", "alertname=CacheErrors", "endpoint=areas"], "warning"),
        (["alertname=Unlabelled"], "warning"),
    ],
)
def test_alerts_route_by_severity(
    run_tool: RunTool, monitoring: Path, labels: list[str], receiver: str
) -> None:
    out = run_tool(
        "amtool", "config", "routes", "test", f"--config.file={monitoring / 'alertmanager.yml'}",
        *labels,
    ).stdout  # fmt: skip
    assert out.strip() == receiver
