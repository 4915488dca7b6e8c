from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from tests.ttlreview.conftest import make_events
from ttlreview.curve import (
    CURVE_COLUMNS,
    compute_curve,
    default_ttl_grid,
    interval,
    jackknife,
    t_quantile,
    ttl_grid,
)
from ttlreview.events import sample_events
from ttlreview.simulate import replay_stats
from ttlreview.synthetic import zipf_events
from ttlreview.timeline import build_timelines


def _curve(events: pd.DataFrame, ttls: Sequence[float], **kw: object) -> pd.DataFrame:
    tl = build_timelines(events, **kw)  # type: ignore[arg-type]
    return compute_curve(tl, replay_stats(tl, ttls), ttls)


def test_grid_has_sixteen_ttls_and_always_the_deployed_one() -> None:
    grid = default_ttl_grid()
    assert len(grid) == 16 and grid[0] == 30 and grid[-1] == 86400
    assert ttl_grid([3600, 450]) == sorted({*grid, 450})
    with pytest.raises(ValueError):
        ttl_grid([0])


def test_t_quantile_and_jackknife_against_known_values() -> None:
    assert t_quantile(0.95, 19) == pytest.approx(2.093, abs=1e-3)
    assert t_quantile(0.95, 4) == pytest.approx(2.776, abs=5e-3)
    assert t_quantile(0.99, 1000) == pytest.approx(2.581, abs=1e-3)
    # identical groups: no spread at all
    assert jackknife(np.full(10, 5.0), np.full(10, 10.0)) == 0.0
    assert math.isnan(jackknife(np.array([3.0, 0.0]), np.array([4.0, 0.0])))
    lo, hi = interval(0.5, 0.1, 2.0)
    assert lo < 0.5 < hi and hi - 0.5 == pytest.approx(0.5 - lo)


def test_rates_scale_backend_and_memory_and_counts_stay_sampled() -> None:
    # one key requested every 10 s for 1000 s, entries of 1000 bytes
    rows = [(float(t), "k", "request") for t in range(0, 1001, 10)]
    full = make_events(rows, size=[1000.0] * len(rows))
    sampled = full.assign(rate=0.25)
    a, b = _curve(full, [100]).iloc[0], _curve(sampled, [100]).iloc[0]
    assert list(a.index[: len(CURVE_COLUMNS)]) == list(CURVE_COLUMNS)
    # fills at 0, 100, ..., 1000: 11; the first is warm-up -> 100 requests, 10 misses, 90 hits
    assert (a["requests"], a["hits"], a["expired_misses"], a["warmup_requests"]) == (100, 90, 10, 1)
    assert a["hit_ratio"] == pytest.approx(0.9)
    # backend: (1 - 0.9) * 101 requests / 1000 s; memory: 11 fills live 100 s of 1000 bytes
    assert a["backend_per_second"] == pytest.approx(0.1 * 101 / 1000)
    assert a["est_memory_bytes"] == pytest.approx(11 * 100 * 1000 / 1000)
    assert b["requests"] == a["requests"]
    assert b["backend_per_second"] == pytest.approx(4 * a["backend_per_second"])
    assert b["est_memory_bytes"] == pytest.approx(4 * a["est_memory_bytes"])


def test_memory_uses_default_sizes_when_the_events_carry_none() -> None:
    rows = [(float(t), "k", "request") for t in range(0, 1001, 10)]
    curve = _curve(make_events(rows), [100], default_sizes={"areas": 500})
    assert curve.iloc[0]["est_memory_bytes"] == pytest.approx(11 * 100 * 500 / 1000)


def test_unsampled_trace_has_an_exact_answer() -> None:
    curve = _curve(zipf_events(5_000, 500, seed=3), [60, 3600])
    assert (curve["hit_ratio_low"] == curve["hit_ratio"]).all()
    assert (curve["hit_ratio_high"] == curve["hit_ratio"]).all()


def _truth_and_sample(seed: int, rate: float, ttls: Sequence[float]) -> tuple[pd.DataFrame, ...]:
    events = zipf_events(120_000, 30_000, exponent=0.5, seed=seed, endpoints=("valuation",))
    return _curve(events, ttls), _curve(sample_events(events, rate), ttls)


def test_sampled_estimate_is_within_its_interval_of_the_unsampled_answer() -> None:
    ttls = [60, 300, 3600, 21600]
    truth, sample = _truth_and_sample(seed=0, rate=0.1, ttls=ttls)
    assert (sample["requests"] < 0.2 * truth["requests"]).all()
    assert (sample["hit_ratio_low"] < sample["hit_ratio_high"]).all()
    inside = (sample["hit_ratio_low"] <= truth["hit_ratio"]) & (
        truth["hit_ratio"] <= sample["hit_ratio_high"]
    )
    bounds = sample[["hit_ratio_low", "hit_ratio_high"]]
    assert inside.all(), pd.concat([truth["hit_ratio"], bounds], axis=1)


@pytest.mark.slow
def test_interval_coverage_over_independent_samples() -> None:
    """Ten salts, i.e. ten different key sets in the sample: a 95 % interval that covers the
    unsampled answer at least 7 times out of 10 (measured: about 0.9, see docs)."""
    hits = 0
    for seed in range(1, 11):
        truth, sample = _truth_and_sample(seed=seed, rate=0.1, ttls=[300])
        hits += int(
            sample["hit_ratio_low"][0] <= truth["hit_ratio"][0] <= sample["hit_ratio_high"][0]
        )
    assert hits >= 7
