"""Fixtures for the Grafana tests: the committed files, parsed, and a plain Prometheus.

`promql_parser` is a real Prometheus with no targets: an invalid expression gets status
"error" from /api/v1/query, a valid one an empty result, so it checks syntax (and
types) exactly as the server that will run the queries does.

`live_prometheus` (a Prometheus with monitoring/ rules scraping the real service under
traffic) comes from tests/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.procs import PrometheusServer

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "grafana"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
PROVISIONING = GRAFANA / "provisioning"

#: What Grafana would put in place of its variables when the queries reach Prometheus:
#: every endpoint and instance ("All"), and windows wide enough to hold the test traffic.
GRAFANA_VALUES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "endpoint": ".*",
    "instance": ".*",
}


def load_dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard JSON of grafana/dashboards/, by file name."""
    return {path.name: json.loads(path.read_text()) for path in DASHBOARD_FILES}


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((PROVISIONING / relative).read_text())


@pytest.fixture(scope="session")
def dashboards() -> dict[str, dict[str, Any]]:
    return load_dashboards()


@pytest.fixture(scope="session")
def alert_rules() -> dict[str, Any]:
    return dict(load_yaml("alerting/rules.yml"))


@pytest.fixture(scope="session")
def promql_parser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus scraping nothing: the judge of whether an expression is valid."""
    config_dir = tmp_path_factory.mktemp("prometheus-parser")
    with PrometheusServer("global:\n  scrape_interval: 15s\n", config_dir=config_dir) as prom:
        assert isinstance(prom, PrometheusServer)
        yield prom
