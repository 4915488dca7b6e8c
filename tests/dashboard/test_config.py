from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.config import ConfigError, DashboardConfig


def test_defaults_when_the_environment_is_empty() -> None:
    config = DashboardConfig.from_env({})
    assert config.prometheus_url == "http://localhost:9090"
    assert config.port == 8050
    assert config.prometheus_timeout == 5.0
    assert config.rollout_start is None
    assert config.refresh_seconds == 30.0
    assert config.ttl_review_dir == Path(".state/ttl-review")  # `cachewatch ttl-review`'s --out
    assert config.redis_url == "redis://127.0.0.1:6379/0"


def test_the_ttl_review_folder_follows_the_state_dir_unless_set() -> None:
    from ttlreview.cli import add_review_arguments

    env = {"CACHEWATCH_STATE_DIR": "/srv/state", "REDIS_URL": "redis://cache:6379/2"}
    config = DashboardConfig.from_env(env)
    assert config.ttl_review_dir == Path("/srv/state/ttl-review")
    assert config.redis_url == "redis://cache:6379/2"
    set_here = DashboardConfig.from_env({**env, "TTL_REVIEW_DIR": " /data/review "})
    assert set_here.ttl_review_dir == Path("/data/review")
    parser = argparse.ArgumentParser()
    add_review_arguments(parser)  # the command's default, read from os.environ
    assert parser.parse_args([]).out == DashboardConfig.from_env().ttl_review_dir


def test_every_setting_is_read() -> None:
    config = DashboardConfig.from_env(
        {
            "PROMETHEUS_URL": " http://prom:9090/ ",
            "DASHBOARD_PORT": "9000",
            "DASHBOARD_HOST": "0.0.0.0",
            "PROMETHEUS_TIMEOUT": "2.5",
            "ROLLOUT_START": "2025-11-20T10:00:00+01:00",
            "DASHBOARD_REFRESH_SECONDS": "5",
        }
    )
    assert config.prometheus_url == "http://prom:9090"
    assert (config.port, config.host, config.prometheus_timeout) == (9000, "0.0.0.0", 2.5)
    assert config.rollout_start == datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
    assert config.refresh_seconds == 5.0


def test_a_rollout_start_without_zone_is_utc() -> None:
    config = DashboardConfig.from_env({"ROLLOUT_START": "2025-11-20 09:00"})
    assert config.rollout_start == datetime(2025, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DASHBOARD_PORT", "eighty"),
        ("DASHBOARD_PORT", "70000"),
        ("DASHBOARD_PORT", "80.5"),
        ("PROMETHEUS_TIMEOUT", "0"),
        ("PROMETHEUS_TIMEOUT", "-1"),
        ("ROLLOUT_START", "last tuesday"),
    ],
)
def test_bad_values_are_refused_with_their_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        DashboardConfig.from_env({name: value})
