"""The check against reality: the model at the deployed TTL vs what the cache really answered.

Both sides count the same requests: the sampled requests of the window, less the
model's warm-up at the deployed TTL (each entry living the TTL its filling request
reported). The gap is split exactly, request by request:

    predicted − live = (model hit, live bypass) + (model hit, live cold miss)
                     + (model hit, live expired miss) + (model hit, other live miss)
                     − (model miss, live hit)

all as shares of the requests. A cold miss on a key the model says was cached
hints at evictions (memory pressure) or a Redis restart; an expired miss the model
calls a hit hints at entries dying early (a TTL change, clock skew); live hits the
model misses hint at entries cached before the window or served within a grace period.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ttlreview.simulate import Detail, replay_detail
from ttlreview.timeline import RESULT_CODES, Timelines

REALITY_COLUMNS = (
    "endpoint",
    "deployed_ttl_seconds",
    "requests",
    "predicted_hits",
    "predicted_hit_ratio",
    "live_hits",
    "live_misses",
    "live_bypasses",
    "live_unknown",
    "live_hit_ratio",
    "live_lookup_hit_ratio",
    "gap",
    "gap_bypass",
    "gap_cold_on_cached",
    "gap_expired_early",
    "gap_other_miss",
    "gap_live_only_hits",
    "cold_misses_after_seen",
    "explanation",
)


def reality_check(tl: Timelines, detail: Detail | None = None) -> pd.DataFrame:
    """One row per endpoint (``REALITY_COLUMNS``); ``detail`` is the replay at ``tl.ttl_us``."""
    detail = detail if detail is not None else replay_detail(tl, tl.ttl_us)
    counted = detail.kind != 4
    pred_hit = detail.kind == 0
    live_hit = tl.result == RESULT_CODES["hit"]
    live_miss = tl.result == RESULT_CODES["miss"]
    live_bypass = tl.result == RESULT_CODES["bypass"]
    cold = live_miss & (tl.reason == "cold")
    expired = live_miss & (tl.reason == "expired")
    ep = tl.key_endpoint[tl.kid]
    rows = []
    for e, endpoint in enumerate(tl.endpoints):
        m = counted & (ep == e)
        n = int(m.sum())

        def count(mask: np.ndarray, m: np.ndarray = m) -> int:
            return int(np.count_nonzero(mask & m))

        def share(c: int, n: int = n) -> float:
            return c / n if n else math.nan

        predicted, hits, misses = count(pred_hit), count(live_hit), count(live_miss)
        bypasses = count(live_bypass)
        known = hits + misses + bypasses
        live_ratio = hits / known if known else math.nan
        row: dict[str, object] = {
            "endpoint": endpoint,
            "deployed_ttl_seconds": tl.deployed_ttl[endpoint],
            "requests": n,
            "predicted_hits": predicted,
            "predicted_hit_ratio": share(predicted),
            "live_hits": hits,
            "live_misses": misses,
            "live_bypasses": bypasses,
            "live_unknown": n - known,
            "live_hit_ratio": live_ratio,
            "live_lookup_hit_ratio": hits / (hits + misses) if hits + misses else math.nan,
            "gap": share(predicted) - live_ratio if known else math.nan,
            "gap_bypass": share(count(pred_hit & live_bypass)),
            "gap_cold_on_cached": share(count(pred_hit & cold)),
            "gap_expired_early": share(count(pred_hit & expired)),
            "gap_other_miss": share(count(pred_hit & live_miss & ~cold & ~expired)),
            "gap_live_only_hits": share(count(~pred_hit & live_hit)),
            "cold_misses_after_seen": count(cold & ~tl.is_first),
        }
        row["explanation"] = explain(row)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(REALITY_COLUMNS))


def explain(row: dict) -> str:
    """The gap in one sentence, in percentage points of the requests."""
    if not row["requests"]:
        return "no requests to compare"
    if row["live_hit_ratio"] != row["live_hit_ratio"]:
        return "the events carry no live results to compare with"
    parts = [
        ("bypassed the cache", row["gap_bypass"]),
        (
            "cold misses on keys the model had cached (evictions or a Redis restart?)",
            row["gap_cold_on_cached"],
        ),
        ("expired earlier than modeled", row["gap_expired_early"]),
        ("other misses the model calls hits", row["gap_other_miss"]),
    ]
    text = (
        f"predicted {row['predicted_hit_ratio']:.1%} vs live {row['live_hit_ratio']:.1%} "
        f"at the deployed TTL: gap {row['gap'] * 100:+.1f} pp"
    )
    found = [f"{_pp(value)} pp {what}" for what, value in parts if value > 0]
    if row["gap_live_only_hits"] > 0:
        found.append(
            f"−{_pp(row['gap_live_only_hits'])} pp live hits the model calls misses "
            "(entries from before the window or served in the grace period?)"
        )
    if row["live_unknown"]:
        found.append(f"{row['live_unknown']} requests without a live result left out")
    return text + (" = " + "; ".join(found) if found else "")


def _pp(share: float) -> str:
    """A share in percentage points, never rounded down to a misleading 0.0."""
    return f"{share * 100:.1f}" if share >= 0.0005 else "<0.1"
