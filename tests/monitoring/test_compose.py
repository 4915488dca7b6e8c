"""docker-compose.yaml and the Dockerfile: valid, pinned, private by default, no default password.

`docker-compose config` (the v1 CLI from Debian) renders the file with a controlled
environment; no Docker engine is needed. The Redis health check is run for real against a
password-protected redis-server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring.conftest import REPO, RunTool, run_tool
from tests.support.procs import RedisServer

COMPOSE = REPO / "docker-compose.yaml"
REQUIRED = {
    "REDIS_PASSWORD": "r3dis",
    "POSTGRES_PASSWORD": "p0stgres",
    "GRAFANA_ADMIN_PASSWORD": "gr4f",
}
PUBLISHED = {"service", "dashboard", "prometheus", "alertmanager", "grafana"}
ADDRESS = "${BIND_ADDRESS:-127.0.0.1}"


def compose_config(
    run_tool: RunTool, tmp_path: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` with only `env` (and no .env file) in its environment."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    return run_tool(
        "docker-compose", "-f", COMPOSE, "--env-file", env_file, "config",
        env=clean, check=check,
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("compose")
    services: dict[str, Any] = yaml.safe_load(compose_config(run_tool, tmp_path, REQUIRED).stdout)[
        "services"
    ]
    return services


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_config_renders_with_the_required_variables(rendered: dict[str, Any]) -> None:
    assert set(rendered) == {
        "redis", "postgres", "seed", "service", "dashboard", "prometheus", "alertmanager",
        "redis_exporter", "grafana",
    }  # fmt: skip
    env = rendered["service"]["environment"]
    assert env["REDIS_URL"] == "redis://:r3dis@redis:6379/0"
    assert (
        env["DATABASE_URL"] == "postgresql+psycopg://cachewatch:p0stgres@postgres:5432/cachewatch"
    )
    assert rendered["redis_exporter"]["environment"]["REDIS_PASSWORD"] == "r3dis"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_no_secret_has_a_default(run_tool: RunTool, tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    proc = compose_config(run_tool, tmp_path, env, check=False)
    assert proc.returncode != 0
    assert f"set {missing}" in proc.stderr


def test_every_bind_mount_exists_in_the_repo(rendered: dict[str, Any]) -> None:
    mounts = 0
    for name, service in rendered.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("/"):
                mounts += 1
                path = Path(source)
                assert path.is_relative_to(REPO), f"{name} mounts {source} from outside the repo"
                assert path.exists(), f"{name} mounts {source}, which does not exist"
                assert volume.endswith(":ro"), f"{name} mounts {source} writable"
    assert mounts == 4  # monitoring/ twice, grafana/provisioning, grafana/dashboards


def test_prometheus_and_alertmanager_read_the_shipped_files(rendered: dict[str, Any]) -> None:
    for name, flag, file in [
        ("prometheus", "--config.file=", "prometheus.docker.yml"),
        ("alertmanager", "--config.file=", "alertmanager.yml"),
    ]:
        service = rendered[name]
        target = next(a for a in service["command"] if a.startswith(flag))[len(flag) :]
        mount = next(v for v in service["volumes"] if v.startswith(str(REPO / "monitoring")))
        source, inside, _ = mount.split(":")
        assert target == f"{inside}/{file}"
        assert (Path(source) / file).is_file()


def test_every_image_is_pinned(rendered: dict[str, Any]) -> None:
    for name, service in rendered.items():
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned"


def test_dockerfile_base_is_pinned_and_runs_gunicorn_metrics_on_tmpfs(
    rendered: dict[str, Any],
) -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11\.\d+-slim(-\w+)?$", dockerfile, flags=re.MULTILINE)
    assert "pip install -r requirements.txt" in dockerfile
    assert "PROMETHEUS_MULTIPROC_DIR=/run/cachewatch/metrics" in dockerfile
    assert (
        rendered["service"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        in rendered["service"]["tmpfs"]
    )
    assert re.search(r"^USER (?!root)\w+$", dockerfile, flags=re.MULTILINE)


def test_redis_postgres_and_the_exporter_publish_no_port(rendered: dict[str, Any]) -> None:
    published = {name for name, service in rendered.items() if service.get("ports")}
    assert published == PUBLISHED


def test_every_published_port_binds_to_the_address_variable(
    raw: dict[str, Any], rendered: dict[str, Any], run_tool: RunTool, tmp_path: Path
) -> None:
    for name in PUBLISHED:
        for port in raw[name]["ports"]:
            assert port.startswith(f"{ADDRESS}:"), f"{name} publishes {port}"
        for port in rendered[name]["ports"]:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port}"
    opened = yaml.safe_load(
        compose_config(run_tool, tmp_path, {"BIND_ADDRESS": "0.0.0.0", **REQUIRED}).stdout
    )["services"]
    assert all(p.startswith("0.0.0.0:") for name in PUBLISHED for p in opened[name]["ports"])


def test_the_service_can_scale(rendered: dict[str, Any]) -> None:
    service = rendered["service"]
    assert "container_name" not in service
    # a host port range: each replica of `--scale service=N` takes its own
    assert re.fullmatch(r"127\.0\.0\.1:\d+-\d+:8000/tcp", service["ports"][0])
    prometheus_docker = yaml.safe_load((REPO / "monitoring" / "prometheus.docker.yml").read_text())
    job = next(j for j in prometheus_docker["scrape_configs"] if j["job_name"] == "cachewatch")
    assert job["dns_sd_configs"] == [
        {"names": ["service"], "type": "A", "port": 8000, "refresh_interval": "15s"}
    ]


def test_every_service_is_health_checked_and_waited_for(rendered: dict[str, Any]) -> None:
    one_shot = {name for name, service in rendered.items() if service.get("restart") == "no"}
    assert one_shot == {"seed"}
    for name, service in rendered.items():
        if name not in one_shot:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for dependency, how in service.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully" if dependency in one_shot else "service_healthy"
            )
            assert how == {"condition": wanted}, f"{name} -> {dependency}"
    assert set(rendered["service"]["depends_on"]) == {"redis", "postgres", "seed"}
    assert "/healthz" in " ".join(rendered["service"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(rendered["postgres"]["healthcheck"]["test"])


def test_the_database_is_seeded_once_before_the_replicas(rendered: dict[str, Any]) -> None:
    seed, service = rendered["seed"], rendered["service"]
    assert seed["command"] == ["cachewatch", "seed-db"]
    assert seed["image"] == service["image"]
    for key in ("DATABASE_URL", "CACHEWATCH_SEED_LISTINGS", "CACHEWATCH_SEED"):
        assert seed["environment"][key] == service["environment"][key], key


def test_grafana_and_the_dashboard_are_locked_down(rendered: dict[str, Any]) -> None:
    grafana = rendered["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == REQUIRED["GRAFANA_ADMIN_PASSWORD"]
    dashboard = rendered["dashboard"]
    assert dashboard["command"][:2] == ["cachewatch", "dashboard"]
    assert "--debug" not in dashboard["command"]
    for key, value in dashboard.get("environment", {}).items():
        if "DEBUG" in key:
            assert str(value).lower() in {"0", "false", "no", "off", ""}, f"{key}={value}"
    assert dashboard["environment"]["PROMETHEUS_URL"] == "http://prometheus:9090"


def run_redis_healthcheck(check: str, port: int, password: str, bin_dir: Path) -> int:
    """Run the compose health check's shell text as Docker would, with `redis-cli` aimed at
    127.0.0.1:`port` (in the container it is Redis's default port)."""
    shim = bin_dir / "redis-cli"
    real = shutil.which("redis-cli")
    shim.write_text(f'#!/bin/sh\nexec {real} -p {port} "$@"\n')
    shim.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "REDIS_PASSWORD": password}
    return subprocess.run(["sh", "-c", check], env=env, capture_output=True, timeout=10).returncode


def test_redis_healthcheck_really_authenticates(rendered: dict[str, Any], tmp_path: Path) -> None:
    kind, check = rendered["redis"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    check = check.replace("$$", "$")  # compose's escape; Docker's shell sees one $
    with RedisServer(password="s3cret") as redis:
        assert run_redis_healthcheck(check, redis.port, "s3cret", tmp_path) == 0
        assert run_redis_healthcheck(check, redis.port, "wrong", tmp_path) != 0
        assert run_redis_healthcheck(check, redis.port, "", tmp_path) != 0


def test_redis_runs_with_persistence_a_limit_and_its_password(rendered: dict[str, Any]) -> None:
    command = " ".join(rendered["redis"]["command"])
    for part in (
        "--appendonly yes",
        "--maxmemory-policy allkeys-lru",
        '--maxmemory "$$REDIS_MAXMEMORY"',
        '--requirepass "$$REDIS_PASSWORD"',
    ):
        assert part in command
