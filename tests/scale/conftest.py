"""Fixtures for the scale tests: a real Redis Cluster, a real Sentinel set, the app on either."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry

from service.app import create_app
from service.config import Settings
from tests.scale.topologies import RedisClusterServers, SentinelServers

TOKEN = "scale-admin-token-0123456789"


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterServers]:
    """3 primaries and 3 replicas, shared by a module's tests (which must not kill nodes)."""
    with RedisClusterServers(primaries=3, replicas=1) as servers:
        yield servers


@pytest.fixture
def own_cluster() -> Iterator[RedisClusterServers]:
    """A cluster of the test's own, which it may break."""
    with RedisClusterServers(primaries=3, replicas=1) as servers:
        yield servers


@pytest.fixture
def sentinels() -> Iterator[SentinelServers]:
    with SentinelServers(replicas=1, sentinels=3) as servers:
        yield servers


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Callable[..., tuple[Flask, CollectorRegistry]]:
    """create_app with these env settings added; returns the app and its metrics registry."""

    def make(**env: str) -> tuple[Flask, CollectorRegistry]:
        settings = Settings.from_env(
            {
                "CACHEWATCH_STATE_DIR": str(tmp_path / "state"),
                "DATABASE_URL": database_url,
                "CACHEWATCH_ADMIN_TOKEN": TOKEN,
                "CACHE_XFETCH_BETA": "0",
                "CACHE_SAMPLE_RATE": "0",  # keys are counted exactly; the stream is one more
                **env,
            }
        )
        registry = CollectorRegistry()
        return create_app(settings, registry=registry), registry

    return make


def valuation_queries(areas: list[str], types: list[str], count: int) -> list[dict[str, Any]]:
    """`count` distinct, canonical valuation parameter sets (each one cache key)."""
    combos = itertools.product(areas, types, range(1, 5), (50, 80, 120))
    return [
        {"area": a, "property_type": t, "bedrooms": b, "size_sqm": s, "listing_type": "buy"}
        for a, t, b, s in itertools.islice(combos, count)
    ]


def valuation_path(params: dict[str, Any]) -> str:
    return "/api/property/valuation?" + urlencode(params)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    total = 0.0
    for family in registry.collect():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total
