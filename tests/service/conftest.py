"""Fixtures for the service: a real redis-server, a small real SQLite database, the app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from service import db
from service.app import create_app
from service.config import Settings
from tests.support.procs import RedisServer

LISTINGS = 20_000
TOKEN = "test-admin-token-0123456789"


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of 20,000 generated listings, made once per session."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    db.ensure_seeded(db.connect(f"sqlite:///{path}"), LISTINGS, 42)
    return path


@pytest.fixture
def database_url(seeded_db: Path, tmp_path: Path) -> str:
    """A private copy of the seeded database, which the test may change or break."""
    copy = tmp_path / "cachewatch.sqlite3"
    shutil.copy(seeded_db, copy)
    return f"sqlite:///{copy}"


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
