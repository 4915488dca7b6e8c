"""A slow, obvious cache-aside simulator: the oracle the vectorized replay is checked against.

One dict of entries, events applied one by one in time order (at equal times,
invalidations and changes before requests), times in integer microseconds as the
replay resolves them.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

ORDER = {"invalidate": 0, "change": 0, "request": 1}


def reference(events: pd.DataFrame, ttl: float) -> dict[str, Counter[str]]:
    """Per endpoint: requests, hits, cold, expired, invalidation, stale, warmup."""
    micros = [round(t * 1_000_000) for t in events["ts"]]
    rows = sorted(zip(micros, events["event"].map(ORDER), range(len(events)), strict=True))
    start = min(micros)
    ttl = round(ttl * 1_000_000)
    entries: dict[tuple[str, str], dict[str, int | bool]] = {}
    seen: set[tuple[str, str]] = set()
    out: dict[str, Counter[str]] = {}
    for ts, _, i in rows:
        endpoint, key, kind = events.at[i, "endpoint"], events.at[i, "key"], events.at[i, "event"]
        if kind != "request":
            hit_keys = [k for k in entries if k[0] == endpoint and (key == "*" or k[1] == key)]
            for k in hit_keys:
                if kind == "invalidate" and entries[k]["alive"]:
                    entries[k]["alive"] = False
                    entries[k]["killed_at"] = ts
                if kind == "change":
                    entries[k]["changed"] = True
            continue
        counts = out.setdefault(endpoint, Counter())
        k = (endpoint, key)
        entry = entries.get(k)
        if entry is not None and entry["alive"] and ts < entry["fill"] + ttl:
            counts["requests"] += 1
            counts["hits"] += 1
            if entry["changed"]:
                counts["stale"] += 1
            continue
        if k not in seen:
            if ts < start + ttl:
                counts["warmup"] += 1
            else:
                counts["requests"] += 1
                counts["cold"] += 1
        else:
            counts["requests"] += 1
            assert entry is not None
            killed = not entry["alive"] and entry["killed_at"] < entry["fill"] + ttl
            counts["invalidation" if killed else "expired"] += 1
        seen.add(k)
        entries[k] = {"fill": ts, "alive": True, "changed": False, "killed_at": 0}
    return out
