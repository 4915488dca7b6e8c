"""Seeded synthetic traffic: Zipf-popular keys, Poisson arrivals, invalidations and data changes.

    >>> events = zipf_events(requests=1000, keys=50, seed=1)
    >>> sorted(events["event"].unique())
    ['change', 'invalidate', 'request']
    >>> int((events["event"] == "request").sum())
    1000

For tests and the benchmark: the same seed gives the same trace. ``result`` is
what a cache at the deployed TTL would have answered, with a share of requests
bypassed and a share of hits turned into cold misses (evictions), so the check
against reality has a gap to explain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ttlreview.events import normalize

DAY = 86_400.0


def key_names(endpoint: str, count: int, salt: int = 0) -> np.ndarray:
    """``count`` stable hex key digests for an endpoint (rank 0 is the most popular); another
    ``salt`` gives other names, so another set of keys falls in a sample."""
    return np.array(
        [
            hashlib.sha1(f"{salt}:{endpoint}:{rank}".encode()).hexdigest()[:16]
            for rank in range(count)
        ],
        dtype=object,
    )


def zipf_events(
    requests: int = 100_000,
    keys: int = 10_000,
    *,
    endpoints: Sequence[str] = ("areas", "property_types", "valuation"),
    shares: Sequence[float] | None = None,
    exponent: float = 1.0,
    days: float = 7.0,
    start: float = 1_760_000_000.0,
    invalidations_per_day: float = 1.0,
    changes_per_day: float = 2.0,
    changed_key_share: float = 0.02,
    deployed_ttl: Mapping[str, float] | None = None,
    bypass_share: float = 0.01,
    eviction_share: float = 0.005,
    sizes: Mapping[str, int] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """A normalized event frame (``ttlreview.events``) of about ``requests`` requests.

    Per endpoint: ``keys`` keys with Zipf(``exponent``) popularity, requests spread
    uniformly over ``days``; endpoint-wide invalidations (``*``) at a steady rate;
    endpoint-wide data changes (``*``) at ``changes_per_day`` plus per-key changes
    on ``changed_key_share`` of the keys.
    """
    rng = np.random.default_rng(seed)
    shares = shares or [1.0 / len(endpoints)] * len(endpoints)
    ttl = {"areas": 3600.0, "property_types": 3600.0, "valuation": 300.0, **(deployed_ttl or {})}
    size_of = {"areas": 6000, "property_types": 2000, "valuation": 700, **(sizes or {})}
    duration = days * DAY
    counts = np.floor(np.cumsum(shares) / sum(shares) * requests).astype(int)
    frames = []
    for endpoint, n in zip(endpoints, np.diff(counts, prepend=0).tolist(), strict=True):
        names = key_names(endpoint, keys, salt=seed)
        weights = 1.0 / np.arange(1, keys + 1) ** exponent
        ranks = rng.choice(keys, size=n, p=weights / weights.sum())
        ts = start + np.sort(rng.uniform(0, duration, n))
        size = size_of.get(endpoint, 1000) * rng.uniform(0.5, 1.5, keys)
        frames.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "endpoint": endpoint,
                    "key": names[ranks],
                    "event": "request",
                    "size": np.rint(size[ranks]),
                    "ttl": ttl.get(endpoint, 3600.0),
                }
            )
        )
        n_inv = rng.poisson(invalidations_per_day * days)
        n_chg = rng.poisson(changes_per_day * days)
        changed = names[rng.choice(keys, size=max(1, int(keys * changed_key_share)), replace=False)]
        n_key_chg = rng.poisson(changes_per_day * days)
        frames.append(
            pd.DataFrame(
                {
                    "ts": start
                    + np.concatenate([rng.uniform(0, duration, n_inv + n_chg + n_key_chg)]),
                    "endpoint": endpoint,
                    "key": ["*"] * (n_inv + n_chg) + list(rng.choice(changed, size=n_key_chg)),
                    "event": ["invalidate"] * n_inv + ["change"] * (n_chg + n_key_chg),
                }
            )
        )
    events = normalize(pd.concat(frames, ignore_index=True))
    return _with_results(events, rng, bypass_share, eviction_share)


def _with_results(
    events: pd.DataFrame, rng: np.random.Generator, bypass_share: float, eviction_share: float
) -> pd.DataFrame:
    """Fill ``result``/``reason`` as the deployed cache would have, plus bypasses and evictions."""
    from ttlreview.simulate import replay_detail
    from ttlreview.timeline import build_timelines

    tl = build_timelines(events)
    detail = replay_detail(tl, tl.ttl_us)
    hit = detail.kind == 0
    n = tl.requests
    evicted = hit & ~tl.is_first & (rng.random(n) < eviction_share)
    bypass = rng.random(n) < bypass_share
    result = np.where(hit & ~evicted, "hit", "miss").astype(object)
    reason = np.where(detail.kind == 2, "expired", np.where(result == "miss", "cold", "")).astype(
        object
    )
    result[bypass] = "bypass"
    reason[bypass] = "redis_error"
    out = events.copy()
    res_col = out["result"].to_numpy(dtype=object, copy=True)
    rsn_col = out["reason"].to_numpy(dtype=object, copy=True)
    res_col[tl.row] = result
    rsn_col[tl.row] = reason
    out["result"], out["reason"] = res_col, rsn_col
    return out
