"""summary.md: the review in a page of Markdown.

>>> print(md_table(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})))
| a | b |
|---|---|
| 1 | x |
| 2 | y |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from ttlreview.flags import fmt_ttl
from ttlreview.recommend import human_bytes

if TYPE_CHECKING:
    from ttlreview.review import Review

Formatter = Callable[[Any], str]


def pct(value: float) -> str:
    return "n/a" if value != value else f"{value * 100:.1f} %"


def md_table(frame: pd.DataFrame, formats: Mapping[str, Formatter] | None = None) -> str:
    """A Markdown table of ``frame`` (columns as headers), cells through ``formats``."""
    formats = formats or {}
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        cells = [formats.get(c, str)(v) for c, v in zip(cols, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _when(unix: float) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_summary(review: Review) -> str:
    """The Markdown text of summary.md."""
    m = review.meta
    rates = ", ".join(f"{e} {r:g}" for e, r in m["rates"].items())
    out = [
        f"# TTL review, week {m['week']}",
        "",
        f"Window {_when(m['window_start'])} → {_when(m['window_end'])} "
        f"({m['window_seconds'] / 86400:.1f} days): {m['requests']:,} sampled requests "
        f"on {m['keys']:,} keys; sampling rate {rates}. Budgets: stale hits ≤ "
        f"{pct(m['budgets']['staleness'])} of requests, memory ≤ "
        f"{human_bytes(m['budgets']['memory_bytes'])} ({m['budgets']['memory_scope']}).",
        "",
        "## Recommendations",
        "",
        *[f"- {reason}" for reason in review.recommendations["reason"]],
        "",
    ]
    rec = review.recommendations[
        [
            "endpoint",
            "deployed_ttl_seconds",
            "recommended_ttl_seconds",
            "hit_ratio_deployed",
            "hit_ratio_recommended",
            "stale_ratio_recommended",
            "memory_recommended_bytes",
            "backend_per_second_recommended",
            "knee_ttl_seconds",
        ]
    ]
    ttl: Formatter = lambda v: "–" if v != v else fmt_ttl(float(v))  # noqa: E731
    out += [
        md_table(
            rec,
            {
                "deployed_ttl_seconds": ttl,
                "recommended_ttl_seconds": ttl,
                "knee_ttl_seconds": ttl,
                "hit_ratio_deployed": pct,
                "hit_ratio_recommended": pct,
                "stale_ratio_recommended": pct,
                "memory_recommended_bytes": human_bytes,
                "backend_per_second_recommended": lambda v: f"{v:.3g}",
            },
        ),
        "",
    ]
    if m.get("warnings"):
        out += ["Caveats:", "", *[f"- {w}" for w in m["warnings"]], ""]
    out += ["## Check against reality (deployed TTL)", ""]
    real = review.reality[
        [
            "endpoint",
            "requests",
            "predicted_hit_ratio",
            "live_hit_ratio",
            "gap",
            "live_bypasses",
            "cold_misses_after_seen",
        ]
    ]
    out += [
        md_table(
            real,
            {
                "predicted_hit_ratio": pct,
                "live_hit_ratio": pct,
                "gap": lambda v: "n/a" if v != v else f"{v * 100:+.1f} pp",
            },
        ),
        "",
        *[
            f"- {e}: {x}"
            for e, x in zip(review.reality["endpoint"], review.reality["explanation"], strict=True)
        ],
        "",
        "## Hot keys (stampedes at expiry)",
        "",
    ]
    if review.hot_keys.empty:
        out += [f"No key met {m['burst_threshold']} requests within 1 s of an expiry.", ""]
    else:
        out += [
            f"Keys with ≥ {m['burst_threshold']} requests within 1 s after an expiry miss at "
            "the deployed TTL (each a concurrent database computation without a lock):",
            "",
            md_table(review.hot_keys.head(15)),
            "",
        ]
    out += [
        "## Keys requested once",
        "",
        md_table(review.one_hit, {"one_hit_key_share": pct, "one_hit_request_share": pct}),
        "",
    ]
    versus = review.prediction_vs_result()
    out += ["## Last week's prediction vs this week", ""]
    if versus.empty:
        out += ["No earlier review in history.csv yet.", ""]
    else:
        latest = versus[versus["week"] == m["week"]]
        out += [
            md_table(
                latest[
                    [
                        "endpoint",
                        "previous_week",
                        "previous_recommended_ttl_seconds",
                        "deployed_ttl_seconds",
                        "followed",
                        "predicted_hit_ratio",
                        "live_hit_ratio",
                    ]
                ],
                {
                    "previous_recommended_ttl_seconds": ttl,
                    "deployed_ttl_seconds": ttl,
                    "predicted_hit_ratio": pct,
                    "live_hit_ratio": pct,
                },
            ),
            "",
        ]
    out += [
        "Counts are of the sampled keys; backend load and memory are scaled to all traffic. "
        "How to read this: docs/ttl-review.md.",
        "",
    ]
    return "\n".join(out)
