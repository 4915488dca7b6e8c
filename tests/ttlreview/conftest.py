"""Fixtures for the TTL review tests: event frames from compact specs, a real Redis, traces."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd
import pytest

from tests.support.procs import RedisServer
from ttlreview.events import normalize


def make_events(
    rows: Sequence[tuple[float, str, str] | tuple[float, str, str, str]],
    endpoint: str = "areas",
    **columns: Sequence[object],
) -> pd.DataFrame:
    """Events from ``(ts, key, event[, result])`` tuples, all of one endpoint by default.

    ``make_events([(0, "a", "request"), (5, "*", "invalidate")])``
    """
    frame = pd.DataFrame(
        {
            "ts": [r[0] for r in rows],
            "endpoint": [endpoint] * len(rows),
            "key": [r[1] for r in rows],
            "event": [r[2] for r in rows],
            "result": [r[3] if len(r) > 3 else ("miss" if r[2] == "request" else "") for r in rows],
        }
    )
    for name, values in columns.items():
        frame[name] = list(values)
    return normalize(frame)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, stopped after the test."""
    with RedisServer() as server:
        assert isinstance(server, RedisServer)
        yield server


@pytest.fixture(scope="session")
def small_trace() -> pd.DataFrame:
    """A seeded synthetic week: 30k requests on three endpoints, invalidations, changes,
    bypasses and evictions in the live results."""
    from ttlreview.synthetic import zipf_events

    return zipf_events(requests=30_000, keys=3_000, seed=11)
