"""The event table every part of the review reads: one row per sampled event.

Whatever the source (the Redis Stream ``cachewatch:v1:events`` or a CSV trace),
events become a pandas frame with the columns of ``EVENT_COLUMNS``:

    >>> frame = normalize(pd.DataFrame({"ts": [2.0, 1.0], "endpoint": ["areas"] * 2,
    ...     "key": ["k", "*"], "event": ["request", "invalidate"], "result": ["miss", ""]}))
    >>> list(frame.columns) == list(EVENT_COLUMNS)
    True
    >>> frame[["ts", "key", "rate"]].to_dict("list")
    {'ts': [1.0, 2.0], 'key': ['*', 'k'], 'rate': [1.0, 1.0]}

``ts`` is Unix seconds; ``size`` and ``ttl`` are NaN where unknown; ``rate`` is the
SHARDS sampling rate the event was kept at (1 for an unsampled trace). Rows are in
time order, ties in their original (stream) order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ttlreview.sampling import hash_fractions, key_hashes

#: The stream key the service writes to.
STREAM_KEY = "cachewatch:v1:events"
#: ``key`` value meaning every key of the endpoint (invalidate/change events).
ALL_KEYS = "*"
EVENT_KINDS = ("request", "invalidate", "change")
RESULTS = ("hit", "miss", "bypass")

EVENT_COLUMNS = ("ts", "endpoint", "key", "event", "result", "reason", "size", "ttl", "rate")
_TEXT = ("endpoint", "key", "event", "result", "reason")
_NUMBERS = ("size", "ttl", "rate")


class EventError(ValueError):
    """The events cannot be reviewed (a bad column, event kind or rate)."""


def empty_events() -> pd.DataFrame:
    """A frame with no events and the right columns."""
    return normalize(pd.DataFrame({name: [] for name in EVENT_COLUMNS}))


def normalize(frame: pd.DataFrame, rate: float | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with every column of ``EVENT_COLUMNS`` typed and rows in time order.

    Missing text columns become "", missing numbers NaN, a missing rate 1 (or ``rate``).
    """
    for required in ("ts", "endpoint", "key", "event"):
        if required not in frame.columns:
            raise EventError(f"events need a {required!r} column")
    out = pd.DataFrame(index=frame.index)
    out["ts"] = pd.to_numeric(frame["ts"], errors="raise").astype(np.float64)
    for name in _TEXT:
        col = frame[name] if name in frame.columns else pd.Series("", index=frame.index)
        out[name] = col.fillna("").astype(str).str.strip()
    for name in _NUMBERS:
        if name in frame.columns:
            col = pd.to_numeric(frame[name].replace("", np.nan), errors="coerce")
        else:
            col = pd.Series(np.nan, index=frame.index)
        out[name] = col.astype(np.float64)
    if rate is not None:
        out["rate"] = float(rate)
    out["rate"] = out["rate"].fillna(1.0)
    bad = sorted(set(out["event"].unique()) - set(EVENT_KINDS))
    if bad:
        raise EventError(f"unknown event kind(s) {bad}; expected one of {EVENT_KINDS}")
    rates = out["rate"].to_numpy()
    if rates.size and (np.any(rates <= 0) or np.any(rates > 1)):
        raise EventError("every rate must be in (0, 1]")
    out = out.sort_values("ts", kind="stable").reset_index(drop=True)
    return out


def sample_events(frame: pd.DataFrame, rate: float) -> pd.DataFrame:
    """The events of the keys a SHARDS sample at ``rate`` keeps (``*`` events are all kept).

    The kept rows' ``rate`` becomes ``min(rate, their rate)``. ``sample_events(f, r)`` of a
    trace already sampled at ``q >= r`` by the same hash is the sample at ``r``.

        >>> frame = normalize(pd.DataFrame({"ts": [1, 2], "endpoint": ["areas"] * 2,
        ...     "key": ["a", "b"], "event": ["request"] * 2, "result": ["miss"] * 2}))
        >>> sample_events(frame, 0.5)["key"].tolist()
        ['b']
    """
    if not 0 < rate <= 1:
        raise EventError("the sampling rate must be in (0, 1]")
    keep = _sampled_mask(frame, rate)
    out = frame.loc[keep].copy()
    out["rate"] = np.minimum(out["rate"].to_numpy(), rate)
    return out.reset_index(drop=True)


def consistent_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """Events re-sampled, per endpoint, at the smallest rate found for it, when that rate
    changed during the window.

    A key sampled at 0.1 but not at 0.05 has a partial timeline once the rate
    drops; keeping only keys whose hash is below the endpoint's smallest rate makes
    every kept timeline whole again. Endpoints may be sampled at different rates.
    """
    if frame.empty:
        return frame
    rates = frame.groupby("endpoint")["rate"].agg(["min", "max"])
    varying = rates[rates["min"] < rates["max"]]
    if varying.empty:
        return frame
    parts = [frame[~frame["endpoint"].isin(varying.index)]]
    for endpoint, low in varying["min"].items():
        parts.append(sample_events(frame[frame["endpoint"] == endpoint], float(low)))
    return normalize(pd.concat(parts, ignore_index=True))


def _sampled_mask(frame: pd.DataFrame, rate: float) -> np.ndarray:
    pairs = frame[["endpoint", "key"]].drop_duplicates()
    fractions = hash_fractions(key_hashes(pairs["endpoint"], pairs["key"]))
    sampled = pairs.loc[fractions < rate]
    kept = pd.MultiIndex.from_frame(sampled)
    mask = pd.MultiIndex.from_frame(frame[["endpoint", "key"]]).isin(kept)
    return np.asarray(mask | (frame["key"] == ALL_KEYS).to_numpy())
