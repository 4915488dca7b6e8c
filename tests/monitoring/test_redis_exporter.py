"""The redis_exporter metric names the rules read exist, read from a real exporter that
authenticates to a real password-protected Redis the way docker-compose.yaml configures it."""

from __future__ import annotations

import re

import requests

from tests.monitoring.test_rule_contract import REDIS_EXPORTER
from tests.support.procs import RedisExporter, RedisServer


def scrape(url: str) -> dict[str, float]:
    samples = {}
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})? (\S+)$", line)
        if match:
            samples[match.group(1)] = float(match.group(2))
    return samples


def test_rules_read_metrics_the_exporter_has() -> None:
    redis = RedisServer("--maxmemory", "10mb", "--maxmemory-policy", "allkeys-lru", password="pw")
    exporter = RedisExporter(redis, password="pw")
    with redis, exporter:
        samples = scrape(exporter.url)
    assert samples.keys() >= REDIS_EXPORTER, REDIS_EXPORTER - samples.keys()
    assert samples["redis_up"] == 1
    assert samples["redis_memory_max_bytes"] == 10 * 1024 * 1024


def test_a_wrong_password_reads_as_redis_down() -> None:
    redis = RedisServer(password="pw")
    exporter = RedisExporter(redis, password="wrong")
    with redis, exporter:
        samples = scrape(exporter.url)
    assert samples["redis_up"] == 0
