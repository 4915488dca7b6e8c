"""Fixtures for the service: a real redis-server, a small real SQLite database, the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from service.app import create_app
from service.config import Settings
from tests.support.procs import RedisServer

TOKEN = "test-admin-token-0123456789"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_server: RedisServer) -> Settings:
    return Settings.from_env(
        {
            "CACHEWATCH_STATE_DIR": str(tmp_path / "state"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url,
            "CACHEWATCH_ADMIN_TOKEN": TOKEN,
            "CACHE_XFETCH_BETA": "0",
            # Generous: these tests are about behaviour, on a machine that may be busy.
            "REDIS_SOCKET_TIMEOUT": "1",
            "CACHE_LOCK_WAIT_SECONDS": "10",
        }
    )


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def app(settings: Settings, registry: CollectorRegistry) -> Flask:
    return create_app(settings, registry=registry)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """The sum of every sample of `name` whose labels include `labels`."""
    total = 0.0
    for family in registry.collect():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total
