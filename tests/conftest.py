"""Fixtures shared by every test area.

`live_stack` (alias `live_prometheus`), once per session: a real redis-server,
the real service under gunicorn (2 workers), a real prometheus-redis-exporter
and a real Prometheus scraping them every second with monitoring/rules/*.yml
loaded, after a known burst of `cachewatch load` traffic has been scraped and
evaluated. See tests/support/live.py.

    def test_ratio(live_prometheus):
        result = live_prometheus.query("job:cachewatch_cache_hit_ratio:ratio_rate5m")
        exact = live_prometheus.value("job:cachewatch_cache_hit_ratio:ratio_rate5m",
                                      time_=live_prometheus.settled_at)
        assert exact == pytest.approx(live_prometheus.summary.hit_ratio)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from service import db
from tests.support.live import LiveStack

#: The size of the generated test database: small, but every area and type has listings.
LISTINGS = 20_000


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


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    with LiveStack.start(tmp_path_factory.mktemp("live-stack")) as stack:
        yield stack


@pytest.fixture(scope="session")
def live_prometheus(live_stack: LiveStack) -> LiveStack:
    """The same live stack, by the name the monitoring, grafana and dashboard tests use."""
    return live_stack
