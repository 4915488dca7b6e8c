"""Fixtures for the load generator: one real service per module, its Redis emptied per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loadgen.catalog import Catalog
from tests.support.procs import RedisServer, ServiceProcess


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="module")
def running_service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    with ServiceProcess(redis_server.url, listings=5_000, env={"CACHE_XFETCH_BETA": "0"}) as svc:
        yield svc  # type: ignore[misc]


@pytest.fixture
def service(running_service: ServiceProcess, redis_server: RedisServer) -> ServiceProcess:
    """The service with an empty (cold) cache."""
    redis_server.cli("FLUSHALL")
    return running_service


@pytest.fixture
def catalog() -> Catalog:
    """A small hand-made catalog, most popular first."""
    return Catalog(
        areas=tuple(f"area{i}" for i in range(20)),
        property_types=("flat", "terraced", "studio", "detached"),
    )
