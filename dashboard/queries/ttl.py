"""The TTL review page's data: the latest review in its folder, and its rows per endpoint.

    review = latest_review(Path(".state/ttl-review"))      # None when there is none yet
    review_stamp(Path(".state/ttl-review"))                # changes when a review is written
    recommendation_rows(review, "areas"), flags(review, "areas"), versus_rows(review, None)

The review is what `cachewatch ttl-review` wrote (ttlreview.review.load_review);
`endpoint` None means every endpoint of the review.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd

from ttlreview.curve import CI_COLUMNS, CURVE_COLUMNS
from ttlreview.flags import fmt_ttl
from ttlreview.review import FILES, Review, load_review
from ttlreview.summary import pct

CURVE_TABLE_COLUMNS = [*CURVE_COLUMNS, *CI_COLUMNS[2:]]


@dataclasses.dataclass(frozen=True)
class Flag:
    """One thing the review flags about an endpoint: short text, and a tooltip saying more."""

    text: str
    title: str


def review_stamp(out_dir: Path) -> str | None:
    """Names the review in `out_dir` (meta.json is written after its tables); None: no review."""
    try:
        info = (out_dir / FILES["meta"]).stat()
    except OSError:
        return None
    return f"{info.st_mtime_ns}-{info.st_size}"


def latest_review(out_dir: Path) -> Review | None:
    """The review in `out_dir`, or None when there is none yet."""
    if not (out_dir / FILES["meta"]).exists():
        return None
    return load_review(out_dir)


def _of(frame: pd.DataFrame, endpoint: str | None) -> pd.DataFrame:
    if endpoint is None or frame.empty:
        return frame.reset_index(drop=True)
    return frame[frame["endpoint"] == endpoint].reset_index(drop=True)


def review_endpoints(review: Review, endpoint: str | None = None) -> list[str]:
    """The endpoints the review covers (only `endpoint`, when it is one of them)."""
    names = sorted(set(review.curve["endpoint"]) | set(review.recommendations["endpoint"]))
    return [n for n in names if endpoint is None or n == endpoint]


def curve_table(review: Review, endpoint: str | None = None) -> pd.DataFrame:
    """ttl_curve.csv with its CI columns: one row per endpoint and candidate TTL."""
    curve = review.curve.reindex(columns=CURVE_TABLE_COLUMNS)
    return _of(curve.sort_values(["endpoint", "ttl_seconds"]), endpoint)


def recommendation_rows(review: Review, endpoint: str | None = None) -> pd.DataFrame:
    """recommendations.csv: per endpoint, the deployed and the recommended TTL and their figures."""
    return _of(review.recommendations.sort_values("endpoint"), endpoint)


def reality_rows(review: Review, endpoint: str | None = None) -> pd.DataFrame:
    """reality_check.csv: predicted vs live hit ratio at the deployed TTL, the gap, why."""
    return _of(review.reality.sort_values("endpoint"), endpoint)


def versus_rows(review: Review, endpoint: str | None = None) -> pd.DataFrame:
    """This review's week in `prediction_vs_result`: last week's prediction vs this week's
    live hit ratio; empty until the history has two weekly reviews."""
    versus = review.prediction_vs_result()
    return _of(versus[versus["week"] == review.meta["week"]], endpoint)


def flags(review: Review, endpoint: str) -> list[Flag]:
    """What else the review says about `endpoint`: the knee, hot keys, keys requested once,
    and a caveat when its sample is too small for the interval."""
    out = []
    recs = review.recommendations.set_index("endpoint")
    knee = float(recs.at[endpoint, "knee_ttl_seconds"]) if endpoint in recs.index else math.nan
    if math.isfinite(knee):
        title = "The knee of the curve: past it, longer TTLs buy little hit ratio."
        out.append(Flag(f"knee {fmt_ttl(knee)}", title))
    hot = review.hot_keys[review.hot_keys["endpoint"] == endpoint]
    if len(hot):
        threshold = review.meta.get("burst_threshold", 10)
        out.append(
            Flag(
                f"{len(hot)} hot key{'s' if len(hot) > 1 else ''}",
                f"Keys met by {threshold} or more requests within 1 s of an expiry at the "
                f"deployed TTL (largest burst {int(hot['max_burst'].max())}): without the "
                "service's lock each would compute the same value.",
            )
        )
    once = review.one_hit[review.one_hit["endpoint"] == endpoint]
    if len(once) and once["one_hit_keys"].iloc[0] > 0:
        row = once.iloc[0]
        out.append(
            Flag(
                f"{pct(row['one_hit_key_share'])} of keys requested once",
                f"{int(row['one_hit_keys']):,} of {int(row['keys']):,} keys were requested once "
                f"({pct(row['one_hit_request_share'])} of requests): caching them only costs "
                "memory.",
            )
        )
    for warning in review.meta.get("warnings", []):
        if warning.startswith(f"{endpoint}:"):
            out.append(Flag("few sampled keys", warning))
    return out
