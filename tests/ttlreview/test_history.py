from __future__ import annotations

from pathlib import Path

import pandas as pd

from ttlreview.history import HISTORY_COLUMNS, iso_week, prediction_vs_result, update_history


def _rows(
    week: str, deployed: float, recommended: float, predicted: float, live: float
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "week": week,
                "window_start": 0.0,
                "window_end": 1.0,
                "endpoint": "valuation",
                "deployed_ttl_seconds": deployed,
                "recommended_ttl_seconds": recommended,
                "predicted_hit_ratio": predicted,
                "predicted_hit_ratio_deployed": predicted - 0.1,
                "live_hit_ratio": live,
                "sampled_requests": 100,
                "generated_at": "now",
            }
        ]
    )


def test_iso_week_in_utc() -> None:
    assert iso_week(1_767_225_600.0) == "2026-W01"  # Thursday 2026-01-01 00:00 UTC
    assert iso_week(1_766_966_400.0) == "2026-W01"  # Monday 2025-12-29: ISO week 1 of 2026
    assert iso_week(1_766_966_399.0) == "2025-W52"  # the Sunday before, one second earlier


def test_update_replaces_the_same_week_and_keeps_others(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    update_history(path, _rows("2026-W10", 300, 3600, 0.80, 0.55))
    update_history(path, _rows("2026-W11", 3600, 3600, 0.82, 0.79))
    merged = update_history(path, _rows("2026-W11", 3600, 7200, 0.85, 0.78))
    assert list(merged.columns) == list(HISTORY_COLUMNS)
    assert merged["week"].tolist() == ["2026-W10", "2026-W11"]
    assert merged["recommended_ttl_seconds"].tolist() == [3600, 7200]
    assert pd.read_csv(path)["week"].tolist() == ["2026-W10", "2026-W11"]


def test_prediction_vs_result_pairs_each_week_with_the_one_before() -> None:
    history = pd.concat(
        [
            _rows("2026-W10", 300, 3600, 0.80, 0.55),
            _rows("2026-W11", 3600, 7200, 0.82, 0.79),
            _rows("2026-W12", 3600, 7200, 0.84, 0.80),
        ]
    )
    table = prediction_vs_result(history)
    assert table["week"].tolist() == ["2026-W11", "2026-W12"]
    assert table["followed"].tolist() == [True, False]
    assert table["predicted_hit_ratio"].tolist() == [0.80, 0.82]
    assert table["prediction_error"].round(3).tolist() == [-0.01, -0.02]
