"""Next week's TTL per endpoint: the best hit ratio within a staleness and a memory budget.

    >>> b = Budgets.parse(staleness="1%", memory="64MiB")
    >>> b.staleness, b.memory_bytes
    (0.01, 67108864.0)
    >>> human_bytes(2_202_010), human_bytes(-512)
    ('2.1 MiB', '-512 B')

Rule, per endpoint: among the TTLs whose stale hits stay within the staleness
budget, take the best hit ratio, then the shortest TTL within ``tolerance`` of it
(no memory or staleness spent on a gain too small to see). With a total memory
budget, while the chosen TTLs together need more memory, step down the endpoint
whose next shorter TTL adds the fewest database computations per byte saved.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd

from ttlreview.flags import fmt_ttl, knee

RECOMMENDATION_COLUMNS = (
    "endpoint",
    "deployed_ttl_seconds",
    "recommended_ttl_seconds",
    "hit_ratio_deployed",
    "hit_ratio_recommended",
    "hit_ratio_ci",
    "stale_ratio_deployed",
    "stale_ratio_recommended",
    "memory_deployed_bytes",
    "memory_recommended_bytes",
    "memory_delta_bytes",
    "backend_per_second_deployed",
    "backend_per_second_recommended",
    "knee_ttl_seconds",
    "limited_by",
    "live_hit_ratio",
    "reason",
)
_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


@dataclasses.dataclass(frozen=True)
class Budgets:
    """Limits on the recommendation: ``staleness`` is stale hits / requests; ``memory_bytes``
    holds for all endpoints together (``memory_scope="total"``) or each (``"endpoint"``)."""

    staleness: float = 0.01
    memory_bytes: float = 64 * 2**20
    memory_scope: str = "total"
    tolerance: float = 0.001

    @classmethod
    def parse(
        cls, staleness: str | float = 0.01, memory: str | float = "64MiB", scope: str = "total"
    ) -> Budgets:
        """Budgets from command-line text: ``"1%"`` or ``0.01``; ``"64MiB"``, ``"500MB"``, bytes."""
        if scope not in ("total", "endpoint"):
            raise ValueError("the memory scope is 'total' or 'endpoint'")
        return cls(
            staleness=parse_share(staleness), memory_bytes=parse_bytes(memory), memory_scope=scope
        )


def parse_share(text: str | float) -> float:
    """``"1%"`` → 0.01, ``"0.02"`` → 0.02."""
    raw = str(text).strip()
    value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    if not 0 <= value <= 1:
        raise ValueError(f"a share must be between 0 and 1 (or 0% and 100%), not {text!r}")
    return value


def parse_bytes(text: str | float) -> float:
    """``"64MiB"`` → 67108864.0; a bare number is bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(text))
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (e.g. 64MiB, 500MB, 1048576)")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def human_bytes(value: float) -> str:
    """Bytes in binary units, one decimal."""
    size = abs(value)
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} B"


def _pct(share: float) -> str:
    return "n/a" if share != share else f"{share * 100:.1f} %"


def recommend(
    curve: pd.DataFrame, budgets: Budgets | None = None, reality: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per endpoint (``RECOMMENDATION_COLUMNS``) from ``compute_curve``'s frame."""
    budgets = budgets or Budgets()
    options: dict[str, pd.DataFrame] = {}
    choice: dict[str, int] = {}
    limited: dict[str, str] = {}
    for endpoint, sub in curve.groupby("endpoint", sort=True):
        sub = sub[sub["requests"] > 0].sort_values("ttl_seconds").reset_index(drop=True)
        if sub.empty:
            continue
        ok = sub["stale_ratio"] <= budgets.staleness
        if budgets.memory_scope == "endpoint":
            ok &= sub["est_memory_bytes"] <= budgets.memory_bytes
        name = str(endpoint)
        if not ok.any():
            # nothing fits: the least stale (then cheapest) TTL, said plainly
            pick = int(sub.sort_values(["stale_ratio", "est_memory_bytes"]).index[0])
            options[name], choice[name] = sub, pick
            limited[name] = "no TTL meets the budgets"
            continue
        best = sub.loc[ok, "hit_ratio"].max()
        pick = int(sub.index[ok & (sub["hit_ratio"] >= best - budgets.tolerance)][0])
        options[name], choice[name] = sub[ok | (sub.index == pick)], pick
        better = sub["hit_ratio"] > sub.at[pick, "hit_ratio"] + budgets.tolerance
        if (better & ~ok).any():
            # what stops the next better TTL (the shortest of them)
            first = sub.index[better & ~ok][0]
            too_stale = sub.at[first, "stale_ratio"] > budgets.staleness
            limited[name] = "staleness" if too_stale else "memory"
        else:
            limited[name] = ""
    if budgets.memory_scope == "total":
        _fit_total_memory(options, choice, limited, budgets.memory_bytes)
    live = reality.set_index("endpoint")["live_hit_ratio"] if reality is not None else None
    rows = []
    for name, sub in options.items():
        rows.append(_row(name, sub, choice[name], limited[name], curve, live, budgets.staleness))
    return pd.DataFrame(rows, columns=list(RECOMMENDATION_COLUMNS))


def _fit_total_memory(
    options: dict[str, pd.DataFrame],
    choice: dict[str, int],
    limited: dict[str, str],
    budget: float,
) -> None:
    """Step endpoints down to shorter feasible TTLs until the memory total fits, cheapest first."""

    def total() -> float:
        return float(sum(options[n].at[choice[n], "est_memory_bytes"] for n in choice))

    while total() > budget:
        best: tuple[float, str, int] | None = None
        for name, sub in options.items():
            lower = [i for i in sub.index if i < choice[name]]
            if not lower:
                continue
            cur, new = sub.loc[choice[name]], sub.loc[lower[-1]]
            saved = cur["est_memory_bytes"] - new["est_memory_bytes"]
            if saved <= 0:
                continue
            cost = (new["backend_per_second"] - cur["backend_per_second"]) / saved
            if best is None or cost < best[0]:
                best = (cost, name, lower[-1])
        if best is None:
            for name in choice:
                limited[name] = limited[name] or "memory budget cannot be met"
            return
        _, name, index = best
        choice[name] = index
        limited[name] = "memory"


def _row(
    name: str,
    sub: pd.DataFrame,
    pick: int,
    limited: str,
    curve: pd.DataFrame,
    live: pd.Series | None,
    budget_staleness: float,
) -> dict[str, object]:
    mine = curve[curve["endpoint"] == name].sort_values("ttl_seconds")
    deployed_rows = mine[mine["deployed"]]
    dep = deployed_rows.iloc[0] if len(deployed_rows) else sub.loc[pick]
    rec = sub.loc[pick]
    half = (rec["hit_ratio_high"] - rec["hit_ratio_low"]) / 2
    mem_delta = rec["est_memory_bytes"] - dep["est_memory_bytes"]
    k = knee(mine["ttl_seconds"].tolist(), mine["hit_ratio"].tolist())
    row: dict[str, object] = {
        "endpoint": name,
        "deployed_ttl_seconds": dep["ttl_seconds"],
        "recommended_ttl_seconds": rec["ttl_seconds"],
        "hit_ratio_deployed": dep["hit_ratio"],
        "hit_ratio_recommended": rec["hit_ratio"],
        "hit_ratio_ci": half,
        "stale_ratio_deployed": dep["stale_ratio"],
        "stale_ratio_recommended": rec["stale_ratio"],
        "memory_deployed_bytes": dep["est_memory_bytes"],
        "memory_recommended_bytes": rec["est_memory_bytes"],
        "memory_delta_bytes": mem_delta,
        "backend_per_second_deployed": dep["backend_per_second"],
        "backend_per_second_recommended": rec["backend_per_second"],
        "knee_ttl_seconds": k if k is not None else math.nan,
        "limited_by": limited,
        "live_hit_ratio": float(live[name]) if live is not None and name in live else math.nan,
    }
    ci = f" (±{half * 100:.1f})" if np.isfinite(half) and half > 0 else ""
    same = math.isclose(rec["ttl_seconds"], dep["ttl_seconds"])
    head = (
        f"{name}: keep {fmt_ttl(dep['ttl_seconds'])}: hit ratio {_pct(rec['hit_ratio'])}{ci}"
        if same
        else f"{name}: {fmt_ttl(dep['ttl_seconds'])} → {fmt_ttl(rec['ttl_seconds'])}: hit ratio "
        f"{_pct(dep['hit_ratio'])} → {_pct(rec['hit_ratio'])}{ci}"
    )
    sign = "+" if mem_delta >= 0 else ""
    tail = f", stale hits {_pct(rec['stale_ratio'])}, {sign}{human_bytes(mem_delta)}"
    notes = {
        "staleness": "longer TTLs would exceed the staleness budget",
        "memory": "longer TTLs would exceed the memory budget",
    }
    note = notes.get(limited, limited)
    if dep["stale_ratio"] > budget_staleness and not same:
        note = f"the deployed TTL serves {_pct(dep['stale_ratio'])} stale hits" + (
            f"; {note}" if note else ""
        )
    row["reason"] = head + tail + (f" ({note})" if note else "")
    return row
