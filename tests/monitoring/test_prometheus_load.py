"""A real Prometheus loads monitoring/prometheus.yml as shipped: its rules evaluate without
error, the file-based discovery finds the default target, and Alertmanager is configured.

(The test against the live service under traffic is separate: it needs the service.)"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from tests.monitoring.conftest import MONITORING, load_rule_groups
from tests.support.procs import PrometheusServer, wait_until


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    text = (MONITORING / "prometheus.yml").read_text()
    # evaluate every second so the test need not wait 15 s (or a group's own 1 m) for
    # the first evaluation: a copy of monitoring/ whose groups keep no interval of their own
    text = text.replace("evaluation_interval: 15s", "evaluation_interval: 1s")
    assert "evaluation_interval: 1s" in text
    copy = tmp_path_factory.mktemp("monitoring") / "monitoring"
    shutil.copytree(MONITORING, copy, ignore=shutil.ignore_patterns(".test-*", "__pycache__"))
    for path in (copy / "rules").glob("*.yml"):
        rules = yaml.safe_load(path.read_text())
        for group in rules["groups"]:
            group.pop("interval", None)
        path.write_text(yaml.safe_dump(rules, sort_keys=False))
    server = PrometheusServer(text, config_dir=copy)
    with server:
        yield server


def api(prometheus: PrometheusServer, path: str) -> Any:
    body = requests.get(f"{prometheus.url}/api/v1/{path}", timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]


def test_every_rule_loads_and_evaluates_cleanly(prometheus: PrometheusServer) -> None:
    expected = {r.get("record") or r.get("alert") for g in load_rule_groups() for r in g["rules"]}

    def evaluated() -> bool:
        rules = [r for g in api(prometheus, "rules")["groups"] for r in g["rules"]]
        return {r["name"] for r in rules} == expected and all(
            r["health"] != "unknown" for r in rules
        )

    wait_until(evaluated, timeout=30, what="every rule to be evaluated once")
    rules = [r for g in api(prometheus, "rules")["groups"] for r in g["rules"]]
    broken = {r["name"]: r.get("lastError") for r in rules if r["health"] != "ok"}
    assert not broken


def test_file_discovery_finds_the_default_target(prometheus: PrometheusServer) -> None:
    def cachewatch_targets() -> list[dict[str, Any]]:
        active = api(prometheus, "targets?state=active")["activeTargets"]
        return [t for t in active if t["labels"]["job"] == "cachewatch"]

    wait_until(lambda: bool(cachewatch_targets()), timeout=30, what="the file_sd target")
    assert [t["labels"]["instance"] for t in cachewatch_targets()] == ["127.0.0.1:8000"]
    jobs = {t["labels"]["job"] for t in api(prometheus, "targets?state=active")["activeTargets"]}
    assert jobs == {"cachewatch", "redis", "alertmanager", "prometheus"}


def test_alerts_go_to_the_local_alertmanager(prometheus: PrometheusServer) -> None:
    def urls() -> list[str]:
        return [a["url"] for a in api(prometheus, "alertmanagers")["activeAlertmanagers"]]

    wait_until(lambda: bool(urls()), timeout=30, what="the alertmanager to be discovered")
    assert urls() == ["http://127.0.0.1:9093/api/v2/alerts"]
