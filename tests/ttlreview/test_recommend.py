from __future__ import annotations

import math

import pandas as pd
import pytest

from ttlreview.curve import CI_COLUMNS, CURVE_COLUMNS
from ttlreview.recommend import (
    RECOMMENDATION_COLUMNS,
    Budgets,
    human_bytes,
    parse_bytes,
    parse_share,
    recommend,
)

TTLS = [60, 300, 3600, 21600, 86400]


def _curve(
    endpoint: str, deployed: int, ratios: list[float], stale: list[float], memory: list[float]
) -> pd.DataFrame:
    rows = []
    for ttl, ratio, st, mem in zip(TTLS, ratios, stale, memory, strict=True):
        rows.append(
            {
                "endpoint": endpoint,
                "ttl_seconds": ttl,
                "requests": 10_000,
                "hits": round(ratio * 10_000),
                "hit_ratio": ratio,
                "cold_misses": 0,
                "expired_misses": 0,
                "invalidation_misses": 0,
                "stale_hits": round(st * 10_000),
                "backend_per_second": (1 - ratio) * 10,
                "est_memory_bytes": mem,
                "hit_ratio_low": ratio - 0.004,
                "hit_ratio_high": ratio + 0.004,
                "hit_ratio_stderr": 0.002,
                "stale_ratio": st,
                "warmup_requests": 0,
                "deployed": ttl == deployed,
            }
        )
    return pd.DataFrame(rows, columns=list(dict.fromkeys(CURVE_COLUMNS + CI_COLUMNS)))


MB = 2**20
PROPERTY_TYPES = _curve(
    "property_types",
    3600,
    [0.5, 0.8, 0.912, 0.978, 0.979],
    [0, 0.0005, 0.001, 0.003, 0.02],
    [0.1 * MB, 0.5 * MB, 1 * MB, 3.1 * MB, 9 * MB],
)


def test_best_ratio_within_the_staleness_budget_with_a_reason_in_numbers() -> None:
    row = recommend(PROPERTY_TYPES).iloc[0]
    assert list(row.index) == list(RECOMMENDATION_COLUMNS)
    # 24 h has a 0.1 pp better ratio (within tolerance) but 2 % stale hits: 6 h it is
    assert row["recommended_ttl_seconds"] == 21600
    assert row["reason"] == (
        "property_types: 1 h → 6 h: hit ratio 91.2 % → 97.8 % (±0.4), stale hits 0.3 %, +2.1 MiB"
    )
    assert row["limited_by"] == ""
    assert row["memory_delta_bytes"] == pytest.approx(2.1 * MB)


def test_staleness_budget_binds() -> None:
    row = recommend(PROPERTY_TYPES, Budgets(staleness=0.001)).iloc[0]
    assert row["recommended_ttl_seconds"] == 3600
    assert row["limited_by"] == "staleness"
    assert row["reason"].startswith("property_types: keep 1 h: hit ratio 91.2 % (±0.4)")
    assert "staleness budget" in row["reason"]


def test_total_memory_budget_steps_down_the_cheapest_endpoint() -> None:
    # valuation loses little by going shorter; property_types loses a lot
    valuation = _curve(
        "valuation",
        300,
        [0.60, 0.70, 0.71, 0.712, 0.713],
        [0, 0, 0, 0, 0],
        [1 * MB, 2 * MB, 3 * MB, 4 * MB, 5 * MB],
    )
    curve = pd.concat([PROPERTY_TYPES, valuation], ignore_index=True)
    free = recommend(curve, Budgets(memory_bytes=64 * MB)).set_index("endpoint")
    assert free.loc["valuation", "recommended_ttl_seconds"] == 21600
    tight = recommend(curve, Budgets(memory_bytes=5.5 * MB)).set_index("endpoint")
    assert tight.loc["property_types", "recommended_ttl_seconds"] == 21600
    assert tight.loc["valuation", "recommended_ttl_seconds"] == 300
    assert tight.loc["valuation", "limited_by"] == "memory"
    total = tight["memory_recommended_bytes"].sum()
    assert total <= 5.5 * MB


def test_per_endpoint_memory_budget_and_nothing_fits() -> None:
    row = recommend(PROPERTY_TYPES, Budgets(memory_bytes=1.5 * MB, memory_scope="endpoint")).iloc[0]
    assert row["recommended_ttl_seconds"] == 3600 and row["limited_by"] == "memory"
    stale = _curve("areas", 3600, [0.5, 0.6, 0.7, 0.8, 0.9], [0.05] * 5, [MB] * 5)
    row = recommend(stale).iloc[0]
    assert row["limited_by"] == "no TTL meets the budgets"
    assert not math.isnan(row["recommended_ttl_seconds"])


def test_budget_parsing_and_sizes() -> None:
    assert parse_share("1%") == 0.01 and parse_share("0.05") == 0.05
    assert parse_bytes("64MiB") == 64 * MB and parse_bytes("500MB") == 5e8
    assert parse_bytes("1024") == 1024
    with pytest.raises(ValueError):
        parse_bytes("lots")
    with pytest.raises(ValueError):
        parse_share("150%")
    assert human_bytes(3 * 2**30) == "3.0 GiB"
