"""The weekly TTL review: events in, curve + recommendations + reports out.

    from ttlreview import run, load_review
    review = run("out/ttl-review", trace="trace.csv")          # or redis_url=..., or events=frame
    review = load_review("out/ttl-review")                     # what the Dash page reads
    review.curve, review.recommendations, review.history, review.prediction_vs_result()

Files in the output folder (see docs/ttl-review.md): ttl_curve.csv,
ttl_curve_ci.csv, recommendations.csv, reality_check.csv, hot_keys.csv,
one_hit_keys.csv, summary.md, report.html, meta.json, history.csv (one row
per review and endpoint, kept across reviews) and reviews/<week>/ with that
week's curve, recommendations, summary and meta.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ttlreview.curve import CI_COLUMNS, CURVE_COLUMNS, compute_curve, ttl_grid
from ttlreview.events import STREAM_KEY, consistent_sample, normalize, sample_events
from ttlreview.flags import HOT_KEY_COLUMNS, ONE_HIT_COLUMNS, hot_keys, one_hit_keys
from ttlreview.history import (
    HISTORY_COLUMNS,
    iso_week,
    prediction_vs_result,
    read_history,
    update_history,
)
from ttlreview.reality import REALITY_COLUMNS, reality_check
from ttlreview.recommend import RECOMMENDATION_COLUMNS, Budgets, recommend
from ttlreview.simulate import replay_detail, replay_stats
from ttlreview.timeline import build_timelines

FILES = {
    "curve": "ttl_curve.csv",
    "ci": "ttl_curve_ci.csv",
    "recommendations": "recommendations.csv",
    "reality": "reality_check.csv",
    "hot_keys": "hot_keys.csv",
    "one_hit": "one_hit_keys.csv",
    "summary": "summary.md",
    "html": "report.html",
    "meta": "meta.json",
    "history": "history.csv",
}
#: Fewer sampled keys than this per endpoint, or a hotter top key, and the CI is unreliable.
FEW_KEYS = 200
HOT_SHARE = 0.05


@dataclasses.dataclass
class Review:
    """One review: the frames behind every output file, and ``meta`` (window, rates, budgets)."""

    curve: pd.DataFrame
    recommendations: pd.DataFrame
    reality: pd.DataFrame
    hot_keys: pd.DataFrame
    one_hit: pd.DataFrame
    history: pd.DataFrame
    meta: dict[str, Any]
    out_dir: Path | None = None

    def prediction_vs_result(self) -> pd.DataFrame:
        """Each earlier review's prediction for the TTL it recommended vs the next window's
        live hit ratio (``ttlreview.history.prediction_vs_result``)."""
        return prediction_vs_result(self.history)


def review_events(
    events: pd.DataFrame,
    *,
    ttls: Sequence[float] | None = None,
    budgets: Budgets | None = None,
    groups: int = 20,
    level: float = 0.95,
    deployed_ttl: Mapping[str, float] | None = None,
    default_sizes: Mapping[str, float] | None = None,
    burst_threshold: int = 10,
    progress: bool = False,
) -> Review:
    """Review normalized events (``ttlreview.events.normalize``) in memory, writing nothing."""
    budgets = budgets or Budgets()
    events = consistent_sample(events)
    if not (events["event"] == "request").any():
        raise ValueError("no requests in the events: nothing to review")
    tl = build_timelines(
        events, groups=groups, deployed_ttl=deployed_ttl, default_sizes=default_sizes
    )
    grid = ttl_grid(tl.deployed_ttl.values(), ttls)
    stats = replay_stats(tl, grid, progress=_progress_bar(tl.requests * len(grid), progress))
    curve = compute_curve(tl, stats, grid, level=level)
    detail = replay_detail(tl, tl.ttl_us)
    reality = reality_check(tl, detail)
    recs = recommend(curve, budgets, reality)
    per_key = tl.key_stop - tl.key_start
    warnings = []
    sampled_keys: dict[str, int] = {}
    for e, name in enumerate(tl.endpoints):
        counts = per_key[tl.key_endpoint == e]
        sampled_keys[name] = int(counts.size)
        top = counts.max() / counts.sum() if counts.size else 0.0
        if tl.rate[name] < 1 and (counts.size < FEW_KEYS or top > HOT_SHARE):
            warnings.append(
                f"{name}: {counts.size} sampled keys, the busiest with {top:.1%} of the requests: "
                f"at rate {tl.rate[name]:g} the confidence interval may be too narrow; "
                "sample this endpoint at a higher rate"
            )
    end = tl.start + tl.window_seconds
    meta: dict[str, Any] = {
        "week": iso_week(end),
        "window_start": tl.start,
        "window_end": end,
        "window_seconds": tl.window_seconds,
        "events": len(events),
        "requests": tl.requests,
        "keys": tl.keys,
        "sampled_keys": sampled_keys,
        "rates": tl.rate,
        "groups": groups,
        "level": level,
        "ttls": grid,
        "deployed_ttl": tl.deployed_ttl,
        "budgets": dataclasses.asdict(budgets),
        "burst_threshold": burst_threshold,
        "warnings": warnings,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return Review(
        curve=curve,
        recommendations=recs,
        reality=reality,
        hot_keys=hot_keys(tl, detail, threshold=burst_threshold),
        one_hit=one_hit_keys(tl),
        history=pd.DataFrame(columns=list(HISTORY_COLUMNS)),
        meta=meta,
    )


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="req", unit_scale=True, desc="replaying TTLs", leave=False)
    return bar.update


def history_rows(review: Review) -> pd.DataFrame:
    """This review's rows of history.csv."""
    m, recs = review.meta, review.recommendations
    live = review.reality.set_index("endpoint")
    rows = pd.DataFrame(
        {
            "week": m["week"],
            "window_start": m["window_start"],
            "window_end": m["window_end"],
            "endpoint": recs["endpoint"],
            "deployed_ttl_seconds": recs["deployed_ttl_seconds"],
            "recommended_ttl_seconds": recs["recommended_ttl_seconds"],
            "predicted_hit_ratio": recs["hit_ratio_recommended"],
            "predicted_hit_ratio_deployed": recs["hit_ratio_deployed"],
            "live_hit_ratio": recs["endpoint"].map(live["live_hit_ratio"]),
            "sampled_requests": recs["endpoint"].map(live["requests"]),
            "generated_at": m["generated_at"],
        }
    )
    return rows[list(HISTORY_COLUMNS)]


def write_review(review: Review, out_dir: str | Path) -> Review:
    """Write every output file, add this review to history.csv; return the review with its
    history and folder set."""
    from ttlreview.html import render_html
    from ttlreview.summary import render_summary

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    review.history = update_history(out / FILES["history"], history_rows(review))
    review.out_dir = out
    review.curve[list(CURVE_COLUMNS)].to_csv(out / FILES["curve"], index=False)
    review.curve[list(CI_COLUMNS)].to_csv(out / FILES["ci"], index=False)
    review.recommendations.to_csv(out / FILES["recommendations"], index=False)
    review.reality.to_csv(out / FILES["reality"], index=False)
    review.hot_keys.to_csv(out / FILES["hot_keys"], index=False)
    review.one_hit.to_csv(out / FILES["one_hit"], index=False)
    (out / FILES["meta"]).write_text(json.dumps(review.meta, indent=2, default=float) + "\n")
    (out / FILES["summary"]).write_text(render_summary(review))
    (out / FILES["html"]).write_text(render_html(review))
    dated = out / "reviews" / review.meta["week"]
    dated.mkdir(parents=True, exist_ok=True)
    for name in ("curve", "ci", "recommendations", "reality", "summary", "meta"):
        shutil.copyfile(out / FILES[name], dated / FILES[name])
    return review


def load_events(
    *,
    events: pd.DataFrame | None = None,
    trace: str | Path | None = None,
    redis_url: str | None = None,
    stream_key: str = STREAM_KEY,
    days: float = 7.0,
    rate: float | None = None,
    sample_rate: float | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Events from exactly one source: a frame, a CSV trace (sampled at ``rate``, default 1),
    or the Redis Stream (the last ``days``); then sub-sampled at ``sample_rate`` if given."""
    if sum(x is not None for x in (events, trace, redis_url)) != 1:
        raise ValueError("give exactly one of events, trace or redis_url")
    if events is not None:
        frame = normalize(events, rate=rate)
    elif trace is not None:
        from ttlreview.trace import read_trace

        frame = read_trace(trace, rate=rate)
    else:
        from ttlreview.stream import connect, read_stream

        assert redis_url is not None
        frame = read_stream(
            connect(redis_url), stream_key, since=time.time() - days * 86400, progress=progress
        )
        if rate is not None:
            frame["rate"] = float(rate)
    if sample_rate is not None:
        frame = sample_events(frame, sample_rate)
    return frame


def run(
    out_dir: str | Path,
    *,
    events: pd.DataFrame | None = None,
    trace: str | Path | None = None,
    redis_url: str | None = None,
    stream_key: str = STREAM_KEY,
    days: float = 7.0,
    rate: float | None = None,
    sample_rate: float | None = None,
    progress: bool = False,
    **options: Any,
) -> Review:
    """Load events (``load_events``), review them (``review_events`` takes ``options``) and
    write the outputs to ``out_dir``."""
    frame = load_events(
        events=events,
        trace=trace,
        redis_url=redis_url,
        stream_key=stream_key,
        days=days,
        rate=rate,
        sample_rate=sample_rate,
        progress=progress,
    )
    review = review_events(frame, progress=progress, **options)
    review.meta["source"] = (
        "events"
        if events is not None
        else f"trace {trace}"
        if trace is not None
        else f"stream {stream_key}"
    )
    return write_review(review, out_dir)


def load_review(out_dir: str | Path) -> Review:
    """A written review back as frames (curve with its CI columns, recommendations, ...)."""
    out = Path(out_dir)
    if not (out / FILES["meta"]).exists():
        raise FileNotFoundError(f"no TTL review in {out} (meta.json missing)")
    curve = pd.read_csv(out / FILES["curve"], dtype={"endpoint": str})
    ci = pd.read_csv(out / FILES["ci"], dtype={"endpoint": str})
    merged = curve.merge(ci, on=["endpoint", "ttl_seconds"], how="left")

    def read(name: str, columns: Sequence[str]) -> pd.DataFrame:
        path = out / FILES[name]
        text = path.read_text() if path.exists() else ""
        if not text.strip():
            return pd.DataFrame(columns=list(columns))
        return pd.read_csv(
            path,
            dtype={
                "endpoint": str,
                "key": str,
                "reason": str,
                "limited_by": str,
                "explanation": str,
            },
            keep_default_na=True,
        )

    recs = read("recommendations", RECOMMENDATION_COLUMNS)
    recs["limited_by"] = recs["limited_by"].fillna("")
    return Review(
        curve=merged,
        recommendations=recs,
        reality=read("reality", REALITY_COLUMNS),
        hot_keys=read("hot_keys", HOT_KEY_COLUMNS),
        one_hit=read("one_hit", ONE_HIT_COLUMNS),
        history=read_history(out / FILES["history"]),
        meta=json.loads((out / FILES["meta"]).read_text()),
        out_dir=out,
    )
