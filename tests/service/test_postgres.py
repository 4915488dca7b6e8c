"""The PostgreSQL path: the same seed gives the same answers as SQLite; the service runs on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from service import db, queries
from service.app import create_app
from service.config import Settings
from tests.support.procs import PostgresServer, RedisServer

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server  # type: ignore[misc]


def test_same_seed_same_statistics_on_both_databases(
    postgres: PostgresServer, seeded_db: Path
) -> None:
    pg = db.connect(postgres.url)
    assert db.ensure_seeded(pg, 20_000, 42)
    lite = db.connect(f"sqlite:///{seeded_db}")
    for lt in ("buy", "rent"):
        assert queries.area_stats(pg, lt) == queries.area_stats(lite, lt)
        assert queries.property_type_stats(pg, lt) == queries.property_type_stats(lite, lt)
    params = queries.ValuationParams("northfield", "flat", 2, 75, "buy")
    assert queries.valuation(pg, params) == queries.valuation(lite, params)
    assert not db.ensure_seeded(pg, 20_000, 42)  # already filled: left alone


def test_service_on_postgres_misses_then_hits(postgres: PostgresServer, tmp_path: Path) -> None:
    with RedisServer() as redis_server:
        settings = Settings.from_env(
            {
                "DATABASE_URL": postgres.url,
                "REDIS_URL": redis_server.url,
                "CACHEWATCH_STATE_DIR": str(tmp_path),
            }
        )
        engine = db.connect(postgres.url)
        db.ensure_seeded(engine, 20_000, 42)
        client = create_app(settings, engine=engine, registry=CollectorRegistry()).test_client()
        url = "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=75"
        assert client.get(url).headers["X-Cache"] == "MISS"
        hit = client.get(url)
        assert hit.headers["X-Cache"] == "HIT"
        assert hit.get_json()["comparables"] > 0
        assert client.get("/readyz").get_json()["database"]["ok"]
