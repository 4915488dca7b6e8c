"""A real Alertmanager with monitoring/alertmanager.yml: inhibition and webhook delivery.

Alerts are posted straight to its API, as Prometheus would; the webhook URL is pointed at a
local sink on a free port (the only change to the shipped file)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.monitoring.conftest import MONITORING, Alertmanager, WebhookSink
from tests.support.procs import wait_until

DEFAULT_WEBHOOK = "url: http://127.0.0.1:5001/"


@pytest.fixture(scope="module")
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as server:
        yield server


@pytest.fixture(scope="module")
def alertmanager(sink: WebhookSink) -> Iterator[Alertmanager]:
    text = (MONITORING / "alertmanager.yml").read_text()
    assert text.count(DEFAULT_WEBHOOK) == 2
    server = Alertmanager(text.replace(DEFAULT_WEBHOOK, f"url: {sink.url}"))
    with server:
        yield server


def post(am: Alertmanager, *alerts: dict[str, str]) -> None:
    body = [{"labels": labels, "annotations": {"summary": "test"}} for labels in alerts]
    requests.post(f"{am.url}/api/v2/alerts", json=body, timeout=10).raise_for_status()


def states(am: Alertmanager) -> dict[tuple[str, str], str]:
    """(alertname, endpoint or node or instance) -> active | suppressed."""
    got: dict[tuple[str, str], str] = {}
    for alert in requests.get(f"{am.url}/api/v2/alerts", timeout=10).json():
        labels: dict[str, Any] = alert["labels"]
        where = labels.get("endpoint") or labels.get("node") or labels.get("instance", "")
        got[(labels["alertname"], where)] = alert["status"]["state"]
    return got


def test_critical_inhibits_warnings_of_the_same_endpoint_only(alertmanager: Alertmanager) -> None:
    post(
        alertmanager,
        {"alertname": "CacheHitRatioCritical", "severity": "critical", "endpoint": "areas"},
        {"alertname": "CacheHitRatioLow", "severity": "warning", "endpoint": "areas"},
        {"alertname": "CacheHitRatioLow", "severity": "warning", "endpoint": "valuation"},
        # critical and warning without endpoints must not silence each other
        {"alertname": "ServiceDown", "severity": "critical", "instance": "10.0.0.2:8000"},
        {"alertname": "RedisMemoryHigh", "severity": "warning", "node": "redis:6379"},
    )
    wait_until(lambda: len(states(alertmanager)) == 5, timeout=10, what="the alerts")
    assert states(alertmanager) == {
        ("CacheHitRatioCritical", "areas"): "active",
        ("CacheHitRatioLow", "areas"): "suppressed",
        ("CacheHitRatioLow", "valuation"): "active",
        ("ServiceDown", "10.0.0.2:8000"): "active",
        ("RedisMemoryHigh", "redis:6379"): "active",
    }


def test_redis_down_inhibits_the_cache_alerts_it_explains(alertmanager: Alertmanager) -> None:
    post(
        alertmanager,
        {"alertname": "CacheErrors", "severity": "warning", "endpoint": "property_types",
         "operation": "get"},
        {"alertname": "CacheCircuitOpen", "severity": "warning", "instance": "10.0.0.3:8000"},
    )  # fmt: skip
    wait_until(
        lambda: states(alertmanager).get(("CacheErrors", "property_types")) == "active",
        timeout=10,
        what="CacheErrors to arrive",
    )
    post(alertmanager, {"alertname": "RedisDown", "severity": "critical", "node": "redis:6379"})
    wait_until(
        lambda: ("RedisDown", "redis:6379") in states(alertmanager), timeout=10, what="RedisDown"
    )
    got = states(alertmanager)
    assert got[("CacheErrors", "property_types")] == "suppressed"
    assert got[("CacheCircuitOpen", "10.0.0.3:8000")] == "suppressed"
    assert got[("RedisMemoryHigh", "redis:6379")] == "active"


@pytest.mark.slow
def test_critical_alerts_reach_the_webhook_grouped(
    alertmanager: Alertmanager, sink: WebhookSink
) -> None:
    """The critical route waits 10 s (group_wait) before its first notification."""
    post(alertmanager, {"alertname": "RedisDown", "severity": "critical", "node": "redis:6379"})

    def redis_down_sent() -> bool:
        return any(b["groupLabels"].get("alertname") == "RedisDown" for b in sink.bodies)

    wait_until(redis_down_sent, timeout=30, what="the RedisDown notification", interval=0.5)
    body = next(b for b in sink.bodies if b["groupLabels"].get("alertname") == "RedisDown")
    assert body["receiver"] == "critical"
    assert body["status"] == "firing"
    assert body["groupLabels"] == {"alertname": "RedisDown"}
