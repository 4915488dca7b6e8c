"""The committed dashboards and alert rules are exactly what grafana/build.py generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from grafana import build


def test_committed_files_equal_the_generator_output() -> None:
    assert build.stale_files(build.render()) == [], "run: .venv/bin/python -m grafana.build"


def test_check_mode_reports_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {tmp_path / "a.json": "{}\n"}
    monkeypatch.setattr(build, "render", lambda: outputs)
    assert build.main(["--check"]) == 1
    assert build.main([]) == 0
    assert (tmp_path / "a.json").read_text() == "{}\n"
    assert build.main(["--check"]) == 0


def test_thresholds_come_from_the_thresholds_file(tmp_path: Path) -> None:
    thresholds = yaml.safe_load(build.THRESHOLDS.read_text())
    thresholds["hit_ratio"]["warning"] = 0.9
    thresholds["cached_latency"]["max_seconds"] = 0.02
    path = tmp_path / "thresholds.yml"
    path.write_text(yaml.safe_dump(thresholds))

    outputs = build.render(path)
    board = json.loads(outputs[build.DASHBOARDS / "cache-rollout.json"])
    steps = {
        p["title"]: [s["value"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]]
        for p in board["panels"]
        if p["type"] != "row"
    }
    assert steps["Hit ratio per endpoint"] == [None, 0.9]
    assert steps["Latency p95: hits vs misses"] == [None, 0.02]

    rules = yaml.safe_load(outputs[build.ALERT_RULES])
    params = {
        rule["title"]: rule["data"][2]["model"]["conditions"][0]["evaluator"]["params"]
        for group in rules["groups"]
        for rule in group["rules"]
    }
    assert params["CacheHitRatioLow"] == [0.9]
    assert params["CachedLatencyHigh"] == [0.02]
