"""What else the review flags: each curve's knee, hot keys that stampede, keys requested once.

>>> knee([30, 300, 3600, 86400], [0.10, 0.70, 0.90, 0.95])
300
>>> fmt_ttl(5400), fmt_ttl(300), fmt_ttl(45)
('1.5 h', '5 min', '45 s')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ttlreview.simulate import Detail, requests_within
from ttlreview.timeline import Timelines

HOT_KEY_COLUMNS = (
    "endpoint",
    "key",
    "requests",
    "expiry_misses",
    "bursts",
    "max_burst",
    "requests_in_bursts",
)
ONE_HIT_COLUMNS = (
    "endpoint",
    "keys",
    "one_hit_keys",
    "one_hit_key_share",
    "requests",
    "one_hit_request_share",
)


def fmt_ttl(seconds: float) -> str:
    """A TTL for people: ``45 s``, ``5 min``, ``1.5 h``, ``2 d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.{0 if value.is_integer() else 1}f} {unit}"
    return f"{seconds:g} s"


def knee(ttls: Sequence[float], ratios: Sequence[float]) -> float | None:
    """Kneedle on log TTL: the point farthest above the chord from the first to the last point
    (both axes scaled to [0, 1]); None for a flat or too short curve."""
    x = np.log(np.asarray(ttls, dtype=float))
    y = np.asarray(ratios, dtype=float)
    ok = np.isfinite(y)
    x, y, kept = x[ok], y[ok], np.asarray(ttls)[ok]
    if x.size < 3 or np.ptp(y) <= 1e-12 or np.ptp(x) == 0:
        return None
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y[0]) / (y[-1] - y[0]) if y[-1] != y[0] else (y - y.min()) / np.ptp(y)
    above = yn - xn
    best = int(np.argmax(above))
    if above[best] <= 0:
        return None
    value = kept[best]
    return int(value) if float(value).is_integer() else float(value)


def hot_keys(
    tl: Timelines,
    detail: Detail,
    threshold: int = 10,
    window_seconds: float = 1.0,
    top: int = 20,
) -> pd.DataFrame:
    """Keys whose expiry (at the deployed TTL, ``detail``) met ``threshold`` or more requests
    within ``window_seconds`` after the refill miss: without a lock each would hit the database."""
    expiry = np.flatnonzero(detail.kind == 2)
    if expiry.size == 0:
        return pd.DataFrame(columns=list(HOT_KEY_COLUMNS))
    kid = tl.kid[expiry]
    burst = requests_within(tl, expiry, window_seconds)
    frame = pd.DataFrame({"kid": kid, "burst": burst, "big": burst >= threshold})
    per_key = frame.groupby("kid").agg(
        expiry_misses=("burst", "size"),
        bursts=("big", "sum"),
        max_burst=("burst", "max"),
        requests_in_bursts=("burst", lambda b: int(b[b >= threshold].sum())),
    )
    per_key = per_key[per_key["max_burst"] >= threshold]
    if per_key.empty:
        return pd.DataFrame(columns=list(HOT_KEY_COLUMNS))
    ids = per_key.index.to_numpy()
    per_key.insert(0, "requests", tl.key_stop[ids] - tl.key_start[ids])
    per_key.insert(0, "key", tl.key_name[ids])
    per_key.insert(0, "endpoint", [tl.endpoints[e] for e in tl.key_endpoint[ids]])
    out = per_key.sort_values(["max_burst", "requests"], ascending=False)
    return (
        out.groupby("endpoint", sort=False).head(top).reset_index(drop=True)[list(HOT_KEY_COLUMNS)]
    )


def one_hit_keys(tl: Timelines) -> pd.DataFrame:
    """Per endpoint: keys requested once in the window, as a share of keys and of requests."""
    per_key = tl.key_stop - tl.key_start
    rows = []
    for e, endpoint in enumerate(tl.endpoints):
        counts = per_key[tl.key_endpoint == e]
        ones = int(np.count_nonzero(counts == 1))
        total = int(counts.sum())
        rows.append(
            {
                "endpoint": endpoint,
                "keys": int(counts.size),
                "one_hit_keys": ones,
                "one_hit_key_share": ones / counts.size if counts.size else math.nan,
                "requests": total,
                "one_hit_request_share": ones / total if total else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(ONE_HIT_COLUMNS))
