"""Fixtures for `cachewatch up`: an environment with every port free and the state in tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

from cachewatch.stack.config import port_free
from tests.support.procs import free_port

PORT_VARIABLES = (
    "DASHBOARD_PORT",
    "PROMETHEUS_PORT",
    "ALERTMANAGER_PORT",
    "REDIS_PORT",
    "REDIS_EXPORTER_PORT",
)


def free_run(length: int) -> int:
    """The first of `length` consecutive free ports."""
    for _ in range(100):
        first = free_port()
        if first + length <= 65535 and all(port_free(first + i) for i in range(length)):
            return first
    raise RuntimeError(f"no {length} consecutive free ports")


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    """The variables `cachewatch up` reads, all ports free, a small database, state in tmp."""
    env = {name: str(free_port()) for name in PORT_VARIABLES}
    env.update(
        SERVICE_PORT=str(free_run(2)),
        SERVICE_REPLICAS="2",
        CACHEWATCH_STATE_DIR=str(tmp_path / "state"),
        CACHEWATCH_SEED_LISTINGS="5000",
        PROMETHEUS_SCRAPE_INTERVAL="1s",
        LOAD_RATE="10",
        WEB_CONCURRENCY="1",
    )
    return env
