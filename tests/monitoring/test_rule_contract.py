"""The rules keep the contracts around them: names from docs/metrics.md, annotations that
lead to docs/runbook.md, a unit test for each rule, and rule files current with thresholds.yml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from monitoring import render
from tests.monitoring.conftest import MONITORING, REPO
from tests.monitoring.promql import metric_names

METRICS_DOC = (REPO / "docs" / "metrics.md").read_text()
RUNBOOK = (REPO / "docs" / "runbook.md").read_text()
WINDOWS = ("5m", "1h", "24h")
#: Names that come from redis_exporter, checked against a real exporter in test_redis_exporter.py.
REDIS_EXPORTER = {
    "redis_up",
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_evicted_keys_total",
}


def contract_names() -> set[str]:
    """Every backticked name of docs/metrics.md, the recording rules' W expanded."""
    names: set[str] = set()
    for name in re.findall(r"`([a-z_:]+[a-zA-Z0-9_:]*)`", METRICS_DOC):
        if name.endswith(("rateW", "ratio_rateW")):
            names.update(name[:-1] + w for w in WINDOWS)
        else:
            names.add(name)
    return names


def contract_recording_rules() -> set[str]:
    section = METRICS_DOC.split("## Recording rules", 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)
    expanded: set[str] = set()
    for name in rows:
        if name.endswith("W"):
            expanded.update(name[:-1] + w for w in WINDOWS)
        else:
            expanded.add(name)
    return expanded


def runbook_anchors() -> set[str]:
    """GitHub's anchors for the runbook's headings: lower case, spaces to dashes."""
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", RUNBOOK, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_recording_rules_are_exactly_the_contract(recording_rules: list[dict[str, Any]]) -> None:
    names = [rule["record"] for rule in recording_rules]
    assert len(names) == len(set(names)), "a recording rule is defined twice"
    assert set(names) == contract_recording_rules()


def test_alerts_are_the_expected_set(alert_rules: list[dict[str, Any]]) -> None:
    assert {rule["alert"] for rule in alert_rules} == {
        "CacheHitRatioLow", "CacheHitRatioCritical", "RedisDown", "CacheCircuitOpen",
        "CacheErrors", "CachedLatencyHigh", "RedisMemoryHigh", "RedisEvictions", "ServiceDown",
    }  # fmt: skip


def test_every_alert_is_labelled_annotated_and_damped(alert_rules: list[dict[str, Any]]) -> None:
    for rule in alert_rules:
        name = rule["alert"]
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*)+", name), f"{name} is not CamelCase"
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        annotations = rule["annotations"]
        for key in ("summary", "description", "runbook_url"):
            assert annotations.get(key, "").strip(), f"{name} has no {key}"
        assert rule.get("keep_firing_for"), f"{name} has no keep_firing_for against flapping"


def test_every_runbook_url_lands_on_its_section(alert_rules: list[dict[str, Any]]) -> None:
    anchors = runbook_anchors()
    for rule in alert_rules:
        url = rule["annotations"]["runbook_url"]
        page, _, anchor = url.partition("#")
        assert page == "docs/runbook.md", url
        assert anchor == rule["alert"].lower(), url
        assert anchor in anchors, f"docs/runbook.md has no section #{anchor}"


def test_every_metric_a_rule_reads_is_in_the_contract(rule_groups: list[dict[str, Any]]) -> None:
    known = contract_names() | REDIS_EXPORTER | {"up"}
    unknown = {}
    for group in rule_groups:
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                base = re.sub(r"_(bucket|count|sum)$", "", name)
                if name not in known and base not in known:
                    unknown[name] = rule.get("record") or rule.get("alert")
    assert not unknown, f"names not in docs/metrics.md: {unknown}"


def test_the_name_check_would_catch_a_typo() -> None:
    names = metric_names('sum by (endpoint) (rate(cachewatch_cache_hit_total{x="y"}[5m]))')
    assert names == {"cachewatch_cache_hit_total"}
    assert "cachewatch_cache_hit_total" not in contract_names()


def test_every_rule_has_a_unit_test(rule_groups: list[dict[str, Any]]) -> None:
    exprs: set[str] = set()
    alertnames: set[str] = set()
    for path in sorted((MONITORING / "tests").glob("*.yml")):
        for case in yaml.safe_load(path.read_text())["tests"]:
            exprs.update(t["expr"] for t in case.get("promql_expr_test", []))
            alertnames.update(t["alertname"] for t in case.get("alert_rule_test", []))
    for group in rule_groups:
        for rule in group["rules"]:
            if "record" in rule:
                assert rule["record"] in exprs, f"no promql_expr_test for {rule['record']}"
            else:
                assert rule["alert"] in alertnames, f"no alert_rule_test for {rule['alert']}"


def test_rule_files_are_current_with_thresholds() -> None:
    stale = [p.name for p, text in render.render().items() if p.read_text() != text]
    assert not stale, f"{stale} differ from thresholds.yml: run monitoring/render.py"


def test_thresholds_are_the_one_place_for_the_numbers(tmp_path: Path) -> None:
    thresholds = yaml.safe_load((MONITORING / "thresholds.yml").read_text())
    thresholds["hit_ratio"]["warning"] = 0.85
    thresholds["cached_latency"]["max_seconds"] = 0.02
    thresholds["windows"] = ["5m", "1h"]
    changed = tmp_path / "thresholds.yml"
    changed.write_text(yaml.safe_dump(thresholds))
    texts = render.render(changed)
    alerts = texts[render.ALERTS]
    assert "endpoint:cachewatch_cache_hit_ratio:ratio_rate1h < 0.85" in alerts
    assert "below 85% over 1h" in alerts
    assert 'p95_rate5m{cache="hit"} > 0.02' in alerts
    assert "ratio_rate24h" not in texts[render.RECORDING]


def test_render_check_passes_on_current_files() -> None:
    assert render.main(["--check"]) == 0
