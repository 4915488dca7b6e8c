"""The Redis page's queries against Prometheus holding scenarios.rollout.

Two instances report the same two nodes: node figures count each node once.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.prom import PromClient
from dashboard.queries import redis
from dashboard.queries.common import Scope
from dashboard.view import TimeWindow
from tests.dashboard.synthetic import MIB

HOUR = 3600


def series(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[frame["series"] == name].set_index("time")["value"]


def test_memory_is_summed_over_nodes_once(client: PromClient, rollout_t0: int) -> None:
    frame = redis.memory(client, TimeWindow.ending(rollout_t0, "1h"))
    assert set(series(frame, "used")) == {(96 + 32) * MIB}
    assert set(series(frame, "maxmemory")) == {2 * 256 * MIB}


def test_keys_evictions_and_expirations(client: PromClient, rollout_t0: int) -> None:
    window = TimeWindow.ending(rollout_t0, "1h")
    assert set(redis.keys(client, window)["value"]) == {2000.0}
    frame = redis.evictions(client, window)
    # per step of 15 s: evicted 3 + 1, expired 5 + 2
    assert series(frame, "evicted").to_list() == pytest.approx([4 / 15] * 241)
    assert series(frame, "expired").to_list() == pytest.approx([7 / 15] * 241)


def test_the_circuit_opened_during_the_incident(client: PromClient, rollout_t0: int) -> None:
    frame = series(redis.circuit(client, TimeWindow.ending(rollout_t0, "24h")), "circuit open")
    at = pd.Timestamp
    during = frame[(frame.index >= at(rollout_t0 - 6 * HOUR, unit="s", tz="UTC"))
                   & (frame.index < at(rollout_t0 - 5.5 * HOUR, unit="s", tz="UTC"))]  # fmt: skip
    assert len(during) > 0 and set(during) == {1.0}
    assert frame.sum() == len(during)


def test_errors_by_operation(client: PromClient, rollout_t0: int) -> None:
    frame = redis.errors(client, TimeWindow.ending(rollout_t0, "24h"), Scope())
    totals = frame.groupby("series")["value"].max()
    assert totals["get"] > 0
    assert totals.drop("get").max() == 0
    steady = redis.errors(client, TimeWindow.ending(rollout_t0, "1h"), Scope())
    assert steady["value"].max() == 0


def test_the_latest_status(client: PromClient, rollout_t0: int) -> None:
    status = redis.redis_status(client, TimeWindow.ending(rollout_t0, "1h"), Scope())
    assert (status.nodes_up, status.nodes) == (2, 2)
    assert (status.used_bytes, status.max_bytes, status.keys) == (128 * MIB, 512 * MIB, 2000)
    assert status.circuit_open is False
    assert status.errors == 0
    assert status.evicted == pytest.approx(4 / 15 * HOUR)  # a straight line: exact


def test_the_status_during_the_incident(client: PromClient, rollout_t0: int) -> None:
    during = TimeWindow.ending(rollout_t0 - 5.75 * HOUR, "1h")
    status = redis.redis_status(client, during, Scope())
    assert (status.nodes_up, status.nodes) == (1, 2)
    assert status.circuit_open is True
    assert status.errors is not None and status.errors > 0


def test_no_data_before_the_service_ran(client: PromClient, rollout_t0: int) -> None:
    window = TimeWindow.ending(rollout_t0 - 9 * HOUR, "1h")
    status = redis.redis_status(client, window, Scope())
    assert not status.has_data and status.nodes is None and status.circuit_open is None
    assert redis.memory(client, window).empty
