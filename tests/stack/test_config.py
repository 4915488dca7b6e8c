from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cachewatch.stack import environment
from cachewatch.stack.config import StackConfig, StackError


def test_defaults_are_the_documented_ports() -> None:
    config = StackConfig.from_env({})
    assert config.service_ports == [8000]
    assert (
        config.dashboard_port,
        config.prometheus_port,
        config.alertmanager_port,
        config.redis_port,
        config.redis_exporter_port,
    ) == (8050, 9090, 9093, 6379, 9121)
    assert config.state_dir == Path(".state").absolute()
    assert config.redis_url == "redis://127.0.0.1:6379/0"
    assert config.load_rate == 5.0 and config.scrape_interval is None


def test_service_port_and_replicas() -> None:
    config = StackConfig.from_env({"CACHEWATCH_PORT": "8100", "SERVICE_REPLICAS": "3"})
    assert config.service_ports == [8100, 8101, 8102]
    both = StackConfig.from_env({"CACHEWATCH_PORT": "8100", "SERVICE_PORT": "8200"})
    assert both.service_ports == [8200]  # SERVICE_PORT wins


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REDIS_PORT", "x"),
        ("PROMETHEUS_PORT", "70000"),
        ("SERVICE_REPLICAS", "0"),
        ("LOAD_RATE", "fast"),
        ("PROMETHEUS_SCRAPE_INTERVAL", "1 second"),
        ("REDIS_MAXMEMORY", "lots"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(StackError, match=name):
        StackConfig.from_env({name: value})


def test_a_port_in_use_is_a_problem_naming_its_variable(stack_env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", int(stack_env["PROMETHEUS_PORT"])))
        sock.listen()
        problems = StackConfig.from_env(stack_env).problems()
    assert len(problems) == 1
    assert f"port {stack_env['PROMETHEUS_PORT']} (PROMETHEUS_PORT, for prometheus)" in problems[0]
    assert StackConfig.from_env(stack_env).problems() == []


def test_the_same_port_twice_is_a_problem(stack_env: dict[str, str]) -> None:
    stack_env["REDIS_EXPORTER_PORT"] = stack_env["REDIS_PORT"]
    problems = StackConfig.from_env(stack_env).problems()
    assert any("given to both redis and redis_exporter" in p for p in problems)


def test_a_second_replica_port_in_use_is_found(stack_env: dict[str, str]) -> None:
    second = int(stack_env["SERVICE_PORT"]) + 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", second))
        sock.listen()
        problems = StackConfig.from_env(stack_env).problems()
    assert problems and f"port {second} (SERVICE_PORT+1, for service-2)" in problems[0]


def test_dotenv_fills_in_what_the_environment_does_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("REDIS_PORT=7000\nPROMETHEUS_PORT=9500\n# a comment\n")
    monkeypatch.chdir(tmp_path)
    env = environment({"PROMETHEUS_PORT": "9600"})
    assert env == {"REDIS_PORT": "7000", "PROMETHEUS_PORT": "9600"}
