"""The files `cachewatch up` writes, checked by the real promtool and amtool where they can be."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from cachewatch.stack.config import REPO, StackConfig
from cachewatch.stack.render import FALLBACK_PROMETHEUS, prometheus_config, render

SOURCE = {
    "global": {"scrape_interval": "15s", "scrape_timeout": "10s", "evaluation_interval": "15s"},
    "rule_files": ["rules/*.yml", "/abs/extra.yml"],
    "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]},
    "scrape_configs": [
        {"job_name": "cachewatch", "static_configs": [{"targets": ["127.0.0.1:8000"]}]},
        {"job_name": "redis", "static_configs": [{"targets": ["127.0.0.1:9121"]}]},
        {"job_name": "alertmanager", "static_configs": [{"targets": ["127.0.0.1:9093"]}]},
        {"job_name": "prometheus", "static_configs": [{"targets": ["127.0.0.1:9090"]}]},
        {"job_name": "other", "static_configs": [{"targets": ["127.0.0.1:1234"]}]},
    ],
}


def test_prometheus_config_gets_this_stacks_ports_and_paths(stack_env: dict[str, str]) -> None:
    config = StackConfig.from_env(stack_env)
    targets = Path("/state/targets.json")
    out = prometheus_config(config, SOURCE, targets)
    assert out["global"] == {
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "evaluation_interval": "1s",
    }
    assert out["rule_files"] == [str(REPO / "monitoring" / "rules/*.yml"), "/abs/extra.yml"]
    am = out["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert am == [f"127.0.0.1:{stack_env['ALERTMANAGER_PORT']}"]
    jobs = {job["job_name"]: job for job in out["scrape_configs"]}
    assert jobs["cachewatch"]["file_sd_configs"][0]["files"] == [str(targets)]
    assert "static_configs" not in jobs["cachewatch"]
    for job, variable in [
        ("redis", "REDIS_EXPORTER_PORT"),
        ("alertmanager", "ALERTMANAGER_PORT"),
        ("prometheus", "PROMETHEUS_PORT"),
    ]:
        assert jobs[job]["static_configs"][0]["targets"] == [f"127.0.0.1:{stack_env[variable]}"]
    assert jobs["other"] == SOURCE["scrape_configs"][4]  # type: ignore[index]
    assert SOURCE["global"]["scrape_interval"] == "15s"  # type: ignore[index]  # not changed


def test_the_file_intervals_stay_without_an_override() -> None:
    config = StackConfig.from_env({})
    assert (
        prometheus_config(config, FALLBACK_PROMETHEUS, Path("/t.json"))["global"]
        == (FALLBACK_PROMETHEUS["global"])
    )


def test_rendered_files_pass_promtool_and_list_every_replica(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    config = StackConfig.from_env(stack_env)
    rendered = render(config)
    state = config.state_dir
    targets = json.loads((state / "prometheus/targets/cachewatch.json").read_text())
    assert [t["targets"] for t in targets] == [[f"127.0.0.1:{p}"] for p in config.service_ports]
    check = subprocess.run(
        ["promtool", "check", "config", str(rendered.prometheus_config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert yaml.safe_load(rendered.prometheus_config.read_text())["global"]["scrape_interval"]


def test_procfile_runs_each_part_once_with_the_stacks_redis(stack_env: dict[str, str]) -> None:
    config = StackConfig.from_env(stack_env)
    rendered = render(config)
    names = set(rendered.procfile)
    assert {
        "redis",
        "service-1",
        "service-2",
        "redis_exporter",
        "prometheus",
        "alertmanager",
        "load",
    } <= names
    assert ("dashboard" in names) == config.dashboard
    assert f"--port {config.redis_port}" in rendered.procfile["redis"]
    assert "--maxmemory-policy allkeys-lru" in rendered.procfile["redis"]
    assert f"redis://127.0.0.1:{config.redis_port}" in rendered.procfile["redis_exporter"]
    assert rendered.env["REDIS_URL"] == f"redis://127.0.0.1:{config.redis_port}/0"
    procfile = (config.state_dir / "Procfile").read_text()
    assert all(f"{name}: " in procfile for name in names)
    assert "REDIS_URL=" in (config.state_dir / "stack.env").read_text()


def test_no_demo_traffic_when_the_rate_is_zero(stack_env: dict[str, str]) -> None:
    stack_env["LOAD_RATE"] = "0"
    assert "load" not in render(StackConfig.from_env(stack_env)).procfile
