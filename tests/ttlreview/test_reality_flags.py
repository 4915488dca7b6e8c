from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.ttlreview.conftest import make_events
from ttlreview.flags import fmt_ttl, hot_keys, knee, one_hit_keys
from ttlreview.reality import reality_check
from ttlreview.simulate import US, replay_detail
from ttlreview.timeline import build_timelines


def test_gap_is_split_exactly_into_its_causes() -> None:
    # deployed TTL 100 s; what the model and the live cache say, per request
    rows = [
        (0, "w", "request", "miss"),  # warm-up key opening the window
        (150, "k", "request", "miss"),  # cold miss: model and live agree
        (160, "k", "request", "hit"),  # hit: agree
        (170, "k", "request", "bypass"),  # model hit, live bypass
        (180, "k", "request", "miss"),  # model hit, live cold miss (evicted?)
        (190, "k", "request", "miss"),  # model hit, live expired miss
        (300, "k", "request", "hit"),  # model expired miss, live hit
    ]
    reason = ["cold", "cold", "", "redis_error", "cold", "expired", ""]
    events = make_events(rows, reason=reason, ttl=[100.0] * len(rows))
    row = reality_check(build_timelines(events)).iloc[0]
    assert row["requests"] == 6
    assert (row["predicted_hits"], row["live_hits"], row["live_bypasses"]) == (4, 2, 1)
    assert row["gap"] == pytest.approx(4 / 6 - 2 / 6)
    parts = ["gap_bypass", "gap_cold_on_cached", "gap_expired_early", "gap_other_miss"]
    assert [row[p] * 6 for p in parts] == pytest.approx([1, 1, 1, 0])
    assert row["gap_live_only_hits"] * 6 == pytest.approx(1)
    assert sum(row[p] for p in parts) - row["gap_live_only_hits"] == pytest.approx(row["gap"])
    assert row["cold_misses_after_seen"] == 1
    assert row["live_lookup_hit_ratio"] == pytest.approx(2 / 5)
    assert "bypassed" in row["explanation"] and "evictions" in row["explanation"]


def test_reality_on_synthetic_week_blames_bypasses_and_evictions(
    small_trace: pd.DataFrame,
) -> None:
    table = reality_check(build_timelines(small_trace))
    assert set(table["endpoint"]) == {"areas", "property_types", "valuation"}
    # the generator answers like the model, then bypasses 1 % and evicts 0.5 % of hits
    assert (table["gap"] > 0).all()
    assert (table["gap_live_only_hits"] == 0).all()
    assert (table["gap_bypass"] > 0).all() and (table["gap_cold_on_cached"] > 0).all()
    assert (table["gap_expired_early"] == 0).all()


def test_trace_without_results_says_so() -> None:
    events = make_events([(0, "a", "request", ""), (5, "a", "request", "")])
    row = reality_check(build_timelines(events)).iloc[0]
    assert np.isnan(row["live_hit_ratio"]) and "no live results" in row["explanation"]


def test_hot_key_bursts_after_expiry() -> None:
    # key h: requested 20 times within 0.5 s right after each expiry at TTL 60
    rows = [(0.0, "h", "request")]
    for cycle in range(1, 4):
        rows += [(cycle * 60 + i * 0.02, "h", "request") for i in range(20)]
    rows += [(float(t), "c", "request") for t in range(0, 240, 30)]  # calm key
    tl = build_timelines(make_events(rows))
    table = hot_keys(tl, replay_detail(tl, 60 * US), threshold=10)
    assert table["key"].tolist() == ["h"]
    assert table.iloc[0][["expiry_misses", "bursts", "max_burst"]].tolist() == [3, 3, 20]
    assert hot_keys(tl, replay_detail(tl, 60 * US), threshold=21).empty


def test_one_hit_keys_share_of_keys_and_requests() -> None:
    rows = [(0, "a", "request"), (1, "a", "request"), (2, "b", "request"), (3, "c", "request")]
    row = one_hit_keys(build_timelines(make_events(rows))).iloc[0]
    assert (row["keys"], row["one_hit_keys"]) == (3, 2)
    assert row["one_hit_key_share"] == pytest.approx(2 / 3)
    assert row["one_hit_request_share"] == pytest.approx(2 / 4)


def test_knee_on_log_ttl() -> None:
    ttls = [30, 60, 300, 900, 3600, 21600, 86400]
    assert knee(ttls, [0.1, 0.3, 0.8, 0.9, 0.93, 0.95, 0.96]) == 300
    assert knee(ttls, [0.5] * 7) is None
    assert knee([30, 60], [0.1, 0.2]) is None
    assert fmt_ttl(86400) == "1 d" and fmt_ttl(90) == "1.5 min"
