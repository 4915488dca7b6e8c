"""monitoring/remote_write.example.yml: promtool accepts it; it keeps what long views read."""

from __future__ import annotations

import re
import subprocess

import yaml

from tests.support.procs import REPO

EXAMPLE = REPO / "monitoring" / "remote_write.example.yml"
METRICS_DOC = REPO / "docs" / "metrics.md"


def _keep_rule() -> dict:
    config = yaml.safe_load(EXAMPLE.read_text())
    (target,) = config["remote_write"]
    (rule,) = target["write_relabel_configs"]
    assert rule["action"] == "keep"
    return rule


def _kept(rule: dict, labels: dict[str, str]) -> bool:
    """What Prometheus does: join the source labels, match the anchored regex."""
    value = rule.get("separator", ";").join(labels.get(name, "") for name in rule["source_labels"])
    return re.fullmatch(rule["regex"], value) is not None


def _contract_names() -> set[str]:
    """Every metric and recording-rule name in docs/metrics.md (W expanded to each window)."""
    names: set[str] = set()
    for name in re.findall(r"^\| `([a-z_:0-9W]+)`", METRICS_DOC.read_text(), re.MULTILINE):
        if ":" in name or name.startswith("cachewatch_"):
            names.update(name.replace("rateW", f"rate{w}") for w in ("5m", "1h", "24h"))
    return names


def test_promtool_accepts_the_example() -> None:
    out = subprocess.run(
        ["promtool", "check", "config", str(EXAMPLE)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr


def test_the_example_sends_through_a_queue_to_one_store() -> None:
    (target,) = yaml.safe_load(EXAMPLE.read_text())["remote_write"]
    assert target["url"].startswith("http")
    assert {"capacity", "max_shards", "max_samples_per_send", "batch_send_deadline"} <= set(
        target["queue_config"]
    )


def test_recording_rules_and_cachewatch_metrics_are_kept() -> None:
    rule = _keep_rule()
    names = _contract_names()
    assert len([n for n in names if ":" in n]) >= 20
    assert len([n for n in names if n.startswith("cachewatch_")]) >= 15
    for name in sorted(names):
        for job in ("cachewatch", ""):  # raw series carry a job; most recorded ones do not
            assert _kept(rule, {"__name__": name, "job": job}), name
    assert _kept(
        rule, {"__name__": "cachewatch_http_request_duration_seconds_bucket", "job": "cachewatch"}
    )
    assert _kept(rule, {"__name__": "up", "job": "cachewatch"})


def test_everything_else_is_dropped() -> None:
    rule = _keep_rule()
    for name, job in [
        ("up", "redis"),
        ("up", "prometheus"),
        ("redis_memory_used_bytes", "redis"),
        ("process_cpu_seconds_total", "cachewatch"),
        ("python_gc_objects_collected_total", "cachewatch"),
        ("prometheus_tsdb_head_series", "prometheus"),
        ("scrape_duration_seconds", "cachewatch"),
        ("instance:node_cpu:rate5m", ""),
    ]:
        assert not _kept(rule, {"__name__": name, "job": job}), name
