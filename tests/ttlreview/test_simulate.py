"""The replay against hand-computed timelines and against the slow reference simulator."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ttlreview.simulate as simulate
from tests.ttlreview.conftest import make_events
from tests.ttlreview.reference import reference
from ttlreview.simulate import STATS, US, replay_detail, replay_stats
from ttlreview.timeline import build_timelines

COUNTERS = ("requests", "hits", "cold", "expired", "invalidation", "stale", "warmup")

# One endpoint, TTL 100 s. Comments: what each request must be.
TIMELINE = [
    (0, "a", "request"),  # first of a, inside the warm-up [0, 100): left out
    (50, "a", "request"),  # hit (filled at 0, lives to 100)
    (100, "a", "request"),  # expired miss: 100 >= 0 + 100 (the boundary expires)
    (150, "b", "request"),  # cold miss: first of b, after the warm-up
    (160, "a", "invalidate"),  # empties a (filled at 100)
    (170, "a", "request"),  # invalidation miss
    (180, "a", "change"),  # a's data changes: a's entry (filled at 170) is now stale
    (190, "a", "request"),  # stale hit
    (200, "b", "request"),  # hit, fresh (the change was a's only)
    (210, "*", "change"),  # every key of the endpoint changes
    (220, "b", "request"),  # stale hit
    (230, "*", "invalidate"),  # empties a (170) and b (150)
    (240, "b", "request"),  # invalidation miss (b would have lived to 250)
    (300, "a", "request"),  # invalidation miss: killed at 230, before its expiry at 270
    (400, "a", "request"),  # expired miss (filled at 300)
]
KINDS = [4, 0, 2, 1, 3, 0, 0, 0, 3, 3, 2]  # per request, in time order: see Detail


def _totals(events: pd.DataFrame, ttls: list[float]) -> list[dict[str, float]]:
    tl = build_timelines(events, groups=2)
    stats = replay_stats(tl, ttls)
    return [dict(zip(STATS, row.sum(axis=0).tolist(), strict=True)) for row in stats]


def test_every_class_on_a_hand_computed_timeline() -> None:
    (got,) = _totals(make_events(TIMELINE), [100])
    expected = {
        "requests": 10,
        "hits": 4,
        "cold": 1,
        "expired": 2,
        "invalidation": 3,
        "stale": 2,
        "warmup": 1,
        "fills": 7,
    }
    assert {k: got[k] for k in expected} == expected


def test_per_request_outcomes_in_time_order() -> None:
    events = make_events(TIMELINE)
    tl = build_timelines(events)
    detail = replay_detail(tl, 100 * US)
    order = np.argsort(tl.row, kind="stable")  # timeline rows are per key; back to time order
    assert detail.kind[order].tolist() == KINDS
    stale_times = events["ts"].to_numpy()[tl.row[detail.stale]]
    assert sorted(stale_times.tolist()) == [190.0, 220.0]


def test_warm_up_depends_on_the_ttl() -> None:
    short, long = _totals(make_events(TIMELINE), [10, 1000])
    # TTL 10: only a's first request (t=0) is in [0, 10); b (150) is cold; everything else misses
    assert (short["warmup"], short["cold"], short["hits"]) == (1, 1, 0)
    # TTL 1000: both keys' first requests fall in [0, 1000)
    assert (long["warmup"], long["cold"], long["requests"]) == (2, 0, 9)


def test_same_instant_invalidation_and_change_come_before_the_request() -> None:
    events = make_events(
        [
            (0, "w", "request"),
            (10, "k", "request"),
            (20, "k", "invalidate"),
            (20, "k", "request"),
            (30, "k", "change"),
            (30, "k", "request"),
            (40, "k", "request"),
        ]
    )
    (got,) = _totals(events, [50])
    # 20: the invalidation at 20 empties the entry first -> invalidation miss, fill at 20;
    # 30: hit on the entry filled at 20, whose data changed at 30, in (20, 30] -> stale;
    # 40: hit on the same entry, stale too.
    assert (got["invalidation"], got["hits"], got["stale"]) == (1, 2, 2)


def test_change_at_the_fill_instant_is_seen_by_the_fill() -> None:
    events = make_events(
        [(0, "k", "request"), (100, "k", "change"), (100, "k", "request"), (120, "k", "request")]
    )
    (got,) = _totals(events, [50])
    assert (got["expired"], got["hits"], got["stale"]) == (1, 1, 0)


def test_entries_live_the_ttl_their_filling_request_reported() -> None:
    events = make_events(
        [(0, "k", "request"), (50, "k", "request"), (70, "k", "request"), (130, "k", "request")],
        ttl=[60, 60, 100, 100],
    )
    tl = build_timelines(events)
    kinds = replay_detail(tl, tl.ttl_us).kind.tolist()
    # 0 fills for 60 s; 50 hits; 70 misses and fills for 100 s; 130 hits (< 170)
    assert kinds == [4, 0, 2, 0]


def test_endpoint_wide_events_touch_only_their_endpoint() -> None:
    events = pd.concat(
        [
            make_events([(0, "k", "request"), (20, "k", "request")]),
            make_events(
                [
                    (0, "k", "request"),
                    (10, "*", "invalidate"),
                    (15, "*", "change"),
                    (20, "k", "request"),
                ],
                endpoint="valuation",
            ),
        ]
    )
    from ttlreview.events import normalize

    tl = build_timelines(normalize(events), groups=2)
    stats = replay_stats(tl, [100])[0]
    per_ep = {
        e: dict(zip(STATS, stats[i * 2 : i * 2 + 2].sum(axis=0), strict=True))
        for i, e in enumerate(tl.endpoints)
    }
    assert per_ep["areas"]["hits"] == 1 and per_ep["areas"]["stale"] == 0
    assert per_ep["valuation"]["hits"] == 0 and per_ep["valuation"]["invalidation"] == 1


def _trace(draw: st.DrawFn, invalidations: bool) -> pd.DataFrame:
    kinds = ["request"] * 6 + (["invalidate", "change"] if invalidations else ["change"])
    n = draw(st.integers(1, 40))
    rows = []
    for _ in range(n):
        kind = draw(st.sampled_from(kinds))
        key = draw(st.sampled_from(["a", "b", "c"] + (["*"] if kind != "request" else [])))
        ts = draw(st.one_of(st.integers(0, 60), st.floats(0, 60, allow_nan=False)))
        endpoint = draw(st.sampled_from(["areas", "valuation"]))
        rows.append((float(ts), endpoint, key, kind))
    rows.append((0.0, "areas", "a", "request"))
    from ttlreview.events import normalize

    return normalize(pd.DataFrame(rows, columns=["ts", "endpoint", "key", "event"]))


@st.composite
def traces(draw: st.DrawFn, invalidations: bool = True) -> pd.DataFrame:
    return _trace(draw, invalidations)


TTLS = [0.5, 1, 2, 3, 5, 8, 13, 21, 34, 100]


@settings(max_examples=80, deadline=None)
@given(traces(invalidations=False))
def test_hit_ratio_never_falls_as_the_ttl_grows_without_invalidations(events: pd.DataFrame) -> None:
    tl = build_timelines(events, groups=2)
    stats = replay_stats(tl, TTLS)
    for e in range(len(tl.endpoints)):
        cells = stats[:, e * 2 : e * 2 + 2].sum(axis=1)
        requests, hits = cells[:, 0], cells[:, 1]
        ratio = np.divide(hits, requests, out=np.ones_like(hits), where=requests > 0)
        assert np.all(np.diff(hits) >= 0)
        assert np.all(np.diff(ratio) >= -1e-12), ratio


@settings(max_examples=80, deadline=None)
@given(traces())
def test_replay_matches_the_reference_simulator(events: pd.DataFrame) -> None:
    tl = build_timelines(events, groups=2)
    stats = replay_stats(tl, TTLS)
    for n, ttl in enumerate(TTLS):
        expected = reference(events, ttl)
        for e, endpoint in enumerate(tl.endpoints):
            got = dict(zip(STATS, stats[n, e * 2 : e * 2 + 2].sum(axis=0), strict=True))
            want: Mapping[str, int] = expected.get(endpoint, {})
            assert {k: got[k] for k in COUNTERS} == {k: want.get(k, 0) for k in COUNTERS}, (
                endpoint,
                ttl,
            )


@pytest.mark.parametrize("tail", [0, 10_000])
def test_lock_step_and_bisect_paths_agree(tail: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    keys = rng.zipf(1.3, n) % 300
    events = make_events(
        [
            (float(t), f"k{k}", "request")
            for t, k in zip(np.sort(rng.uniform(0, 5e4, n)), keys, strict=True)
        ]
        + [(float(t), "*", "invalidate") for t in rng.uniform(0, 5e4, 5)]
    )
    tl = build_timelines(events)
    baseline = replay_stats(tl, [10, 100, 1000])
    monkeypatch.setattr(simulate, "_TAIL", tail)
    assert np.array_equal(replay_stats(tl, [10, 100, 1000]), baseline)
    monkeypatch.setattr(simulate, "_MAX_BLOCK_REQUESTS", 1000)  # many blocks
    assert np.array_equal(replay_stats(tl, [10, 100, 1000]), baseline)


def test_deployed_ttl_override_replaces_only_its_endpoint() -> None:
    from ttlreview.events import normalize

    events = normalize(
        pd.concat(
            [
                make_events([(0, "k", "request"), (50, "k", "request")], ttl=[10, 10]),
                make_events(
                    [(0, "k", "request"), (50, "k", "request")], endpoint="valuation", ttl=[10, 10]
                ),
            ]
        )
    )
    tl = build_timelines(events, deployed_ttl={"valuation": 100})
    assert tl.deployed_ttl == {"areas": 10.0, "valuation": 100.0}
    by_ep = dict(zip(tl.key_endpoint[tl.kid].tolist(), (tl.ttl_us // US).tolist(), strict=True))
    assert by_ep == {tl.endpoints.index("areas"): 10, tl.endpoints.index("valuation"): 100}
