"""The what-if curve: per endpoint and TTL, the replay's counters, rates, memory and a CI.

    >>> default_ttl_grid()[:4], len(default_ttl_grid())
    ([30, 60, 120, 300], 16)
    >>> ttl_grid([45, 300])[:3]
    [30, 45, 60]
    >>> round(t_quantile(0.95, 19), 3)
    2.093

Counts (``requests``, ``hits``, ``*_misses``, ``stale_hits``) are of the sample;
``backend_per_second`` and ``est_memory_bytes`` are scaled back to all traffic
by ``1 / rate``. The confidence interval of the hit ratio comes from a delete-a-group
jackknife over the sub-samples that split the hash space (``ttlreview.sampling``),
with the finite-population correction ``sqrt(1 - rate)``, on the logit scale: it
covers the error of sampling keys, not the model's own error (the check against
reality shows that), and it is too narrow when a few hot keys carry much of the
traffic (see docs/ttl-review.md for its measured coverage).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from ttlreview.simulate import STATS
from ttlreview.timeline import Timelines

#: ttl_curve.csv's columns, in this order.
CURVE_COLUMNS = (
    "endpoint",
    "ttl_seconds",
    "requests",
    "hits",
    "hit_ratio",
    "cold_misses",
    "expired_misses",
    "invalidation_misses",
    "stale_hits",
    "backend_per_second",
    "est_memory_bytes",
)
#: The extra columns kept beside them (ttl_curve_ci.csv).
CI_COLUMNS = (
    "endpoint",
    "ttl_seconds",
    "hit_ratio_low",
    "hit_ratio_high",
    "hit_ratio_stderr",
    "stale_ratio",
    "warmup_requests",
    "deployed",
)
DEFAULT_GRID = (
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    14400,
    21600,
    28800,
    43200,
    64800,
    86400,
)


def default_ttl_grid() -> list[int]:
    """Sixteen candidate TTLs from 30 s to 24 h, denser where hit ratios usually bend."""
    return list(DEFAULT_GRID)


def ttl_grid(deployed: Iterable[float], candidates: Iterable[float] | None = None) -> list[float]:
    """The candidates (default grid if None) plus every deployed TTL, sorted, no duplicates."""
    values = {float(v) for v in (candidates if candidates is not None else DEFAULT_GRID)}
    values |= {float(v) for v in deployed}
    if any(v <= 0 for v in values):
        raise ValueError("every TTL must be positive")
    return [int(v) if v.is_integer() else v for v in sorted(values)]


def t_quantile(level: float, df: int) -> float:
    """Two-sided Student t quantile for ``level`` with ``df`` degrees of freedom
    (Cornish-Fisher expansion; within 1e-3 of the exact value for df >= 3)."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    if df <= 0:
        return math.inf
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def jackknife(hits: np.ndarray, requests: np.ndarray) -> float:
    """Standard error of sum(hits)/sum(requests) by deleting one group at a time (NaN if
    fewer than two groups have requests)."""
    groups = requests.size
    if np.count_nonzero(requests) < 2:
        return math.nan
    h, r = hits.sum(), requests.sum()
    theta = (h - hits) / (r - requests)
    return float(math.sqrt((groups - 1) / groups * float(((theta - theta.mean()) ** 2).sum())))


def interval(ratio: float, se: float, quantile: float) -> tuple[float, float]:
    """A confidence interval on the logit scale (delta method), so it stays in [0, 1] and
    widens toward the side a skewed estimate leaves room for; linear at 0 or 1.

        >>> [round(v, 3) for v in interval(0.9, 0.02, 1.96)]
        [0.853, 0.933]
    """
    if not (se == se and ratio == ratio):
        return math.nan, math.nan
    if se == 0:
        return ratio, ratio
    if not 0 < ratio < 1:
        return max(0.0, ratio - quantile * se), min(1.0, ratio + quantile * se)
    center = math.log(ratio / (1 - ratio))
    width = quantile * se / (ratio * (1 - ratio))
    return 1 / (1 + math.exp(-(center - width))), 1 / (1 + math.exp(-(center + width)))


def compute_curve(
    tl: Timelines, stats: np.ndarray, ttls: Sequence[float], level: float = 0.95
) -> pd.DataFrame:
    """One row per endpoint and TTL with ``CURVE_COLUMNS`` then the rest of ``CI_COLUMNS``."""
    col = {name: i for i, name in enumerate(STATS)}
    rows = []
    tq = t_quantile(level, tl.groups - 1)
    for e, endpoint in enumerate(tl.endpoints):
        rate = tl.rate[endpoint]
        # keys are sampled without replacement: at rate 1 there is no sampling error left
        fpc = math.sqrt(max(0.0, 1.0 - rate))
        cells = slice(e * tl.groups, (e + 1) * tl.groups)
        for n, ttl in enumerate(ttls):
            s = stats[n, cells]
            req, hits = s[:, col["requests"]], s[:, col["hits"]]
            total_req, total_hits = req.sum(), hits.sum()
            everything = total_req + s[:, col["warmup"]].sum()
            ratio = total_hits / total_req if total_req else math.nan
            if total_req:
                backend = (1 - ratio) * everything / rate / tl.window_seconds
            else:
                backend = s[:, col["fills"]].sum() / rate / tl.window_seconds
            memory = s[:, col["life_byte_seconds"]].sum() / tl.window_seconds / rate
            se = jackknife(hits, req) * fpc
            stale = s[:, col["stale"]].sum()
            rows.append(
                {
                    "endpoint": endpoint,
                    "ttl_seconds": ttl,
                    "requests": int(total_req),
                    "hits": int(total_hits),
                    "hit_ratio": ratio,
                    "cold_misses": int(s[:, col["cold"]].sum()),
                    "expired_misses": int(s[:, col["expired"]].sum()),
                    "invalidation_misses": int(s[:, col["invalidation"]].sum()),
                    "stale_hits": int(stale),
                    "backend_per_second": backend,
                    "est_memory_bytes": memory,
                    "hit_ratio_low": interval(ratio, se, tq)[0],
                    "hit_ratio_high": interval(ratio, se, tq)[1],
                    "hit_ratio_stderr": se,
                    "stale_ratio": stale / total_req if total_req else math.nan,
                    "warmup_requests": int(s[:, col["warmup"]].sum()),
                    "deployed": math.isclose(ttl, tl.deployed_ttl[endpoint]),
                }
            )
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys(CURVE_COLUMNS + CI_COLUMNS)))
    return frame
