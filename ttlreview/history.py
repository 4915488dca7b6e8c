"""history.csv: one row per review and endpoint, to set last week's prediction against this week.

    >>> rows = pd.DataFrame({"week": ["2026-W46", "2026-W47"], "endpoint": ["areas"] * 2,
    ...     "deployed_ttl_seconds": [3600, 21600], "recommended_ttl_seconds": [21600, 21600],
    ...     "predicted_hit_ratio": [0.95, 0.96], "predicted_hit_ratio_deployed": [0.90, 0.95],
    ...     "live_hit_ratio": [0.89, 0.93]})
    >>> table = prediction_vs_result(rows)
    >>> table[["week", "followed", "predicted_hit_ratio", "live_hit_ratio"]].values.tolist()
    [['2026-W47', True, 0.95, 0.93]]

A review of the same week again replaces that week's rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

HISTORY_COLUMNS = (
    "week",
    "window_start",
    "window_end",
    "endpoint",
    "deployed_ttl_seconds",
    "recommended_ttl_seconds",
    "predicted_hit_ratio",
    "predicted_hit_ratio_deployed",
    "live_hit_ratio",
    "sampled_requests",
    "generated_at",
)
VERSUS_COLUMNS = (
    "week",
    "endpoint",
    "previous_week",
    "previous_recommended_ttl_seconds",
    "deployed_ttl_seconds",
    "followed",
    "predicted_hit_ratio",
    "live_hit_ratio",
    "prediction_error",
    "model_at_deployed",
)


def iso_week(unix_seconds: float) -> str:
    """``2026-W47``: the ISO week (UTC) of a time."""
    year, week, _ = dt.datetime.fromtimestamp(unix_seconds, dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


def read_history(path: Path) -> pd.DataFrame:
    """The history file, or an empty frame with its columns."""
    if not path.exists():
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    return pd.read_csv(path, dtype={"week": str, "endpoint": str})


def update_history(path: Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``rows`` (``HISTORY_COLUMNS``) to the file, replacing rows of the same week and
    endpoint; return the whole history, oldest first."""
    old = read_history(path)
    keys = set(zip(rows["week"], rows["endpoint"], strict=True))
    keep = [(w, e) not in keys for w, e in zip(old["week"], old["endpoint"], strict=True)]
    parts = [df for df in (old[keep], rows[list(HISTORY_COLUMNS)]) if not df.empty]
    merged = pd.concat(parts, ignore_index=True) if parts else rows[list(HISTORY_COLUMNS)]
    merged = merged.sort_values(["week", "endpoint"], kind="stable").reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged.to_csv(path, index=False)
    return merged


def prediction_vs_result(history: pd.DataFrame) -> pd.DataFrame:
    """Per week and endpoint with an earlier review: what that review predicted for the TTL it
    recommended, and the hit ratio this week's window really saw.

    ``followed`` tells whether the recommendation was deployed; the prediction is a fair
    test of the model only then (otherwise ``model_at_deployed``, this week's replay at
    the deployed TTL, is the one to compare).
    """
    rows = []
    for endpoint, sub in history.groupby("endpoint", sort=True):
        sub = sub.sort_values("week")
        for prev, cur in zip(sub.iloc[:-1].itertuples(), sub.iloc[1:].itertuples(), strict=True):
            rows.append(
                {
                    "week": cur.week,
                    "endpoint": endpoint,
                    "previous_week": prev.week,
                    "previous_recommended_ttl_seconds": prev.recommended_ttl_seconds,
                    "deployed_ttl_seconds": cur.deployed_ttl_seconds,
                    "followed": bool(
                        np.isclose(cur.deployed_ttl_seconds, prev.recommended_ttl_seconds)
                    ),
                    "predicted_hit_ratio": prev.predicted_hit_ratio,
                    "live_hit_ratio": cur.live_hit_ratio,
                    "prediction_error": cur.live_hit_ratio - prev.predicted_hit_ratio,
                    "model_at_deployed": cur.predicted_hit_ratio_deployed,
                }
            )
    return pd.DataFrame(rows, columns=list(VERSUS_COLUMNS))
