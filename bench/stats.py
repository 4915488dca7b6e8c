"""Small statistics for benchmark samples: medians, percentiles, spreads, formatting.

>>> median([3.0, 1.0, 2.0])
2.0
>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.5
>>> spread([0.9, 1.0, 1.2])
'0.90–1.20'
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linearly interpolated between the closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def spread(values: Sequence[float], digits: int = 2) -> str:
    """`min–max` of the values, for a table's spread column."""
    if not values:
        return "–"
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}"


def ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1000:,.{digits}f}"


def num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"
