"""Per-key request timelines: the events prepared once, replayed for every TTL.

    >>> from ttlreview.events import normalize
    >>> events = normalize(pd.DataFrame({
    ...     "ts": [100, 101, 105, 103], "endpoint": ["areas"] * 4, "key": ["a", "b", "a", "a"],
    ...     "event": ["request", "request", "request", "invalidate"],
    ...     "result": ["miss", "miss", "hit", ""]}))
    >>> tl = build_timelines(events)
    >>> tl.t.tolist(), tl.kid.tolist(), int(tl.inv_gap[0]), bool(tl.inv_gap[1] == NEVER)
    ([0, 5000000, 1000000], [0, 0, 1], 3000000, True)

``row`` is each request's position in ``events``. Times are integer microseconds
since the window's first event; every request row knows its key (``kid``), how
long until its key is next invalidated or its data next changes (strictly later;
an invalidation or change at the same instant as a request counts as having
happened before it), its deployed TTL and its entry size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ttlreview.events import ALL_KEYS
from ttlreview.sampling import key_hashes

#: The service's rollout TTLs (mirror of service.config.DEFAULT_TTL; a test checks they agree),
#: used when the events carry no ``ttl`` (CSV traces) and none is given.
DEFAULT_DEPLOYED_TTL: Mapping[str, int] = {"areas": 3600, "property_types": 3600, "valuation": 300}
#: Bytes per cached entry when the events never say, per endpoint (override with ``default_sizes``).
DEFAULT_ENTRY_SIZE: Mapping[str, int] = {"areas": 6144, "property_types": 2048, "valuation": 768}
FALLBACK_ENTRY_SIZE = 2048
FALLBACK_TTL = 3600
#: "No invalidation/change ahead": larger than any gap, small enough to add to a time.
NEVER = np.int64(2**61)
US = 1_000_000
RESULT_CODES = {"hit": 0, "miss": 1, "bypass": 2}


@dataclasses.dataclass
class Timelines:
    """Request timelines of every sampled key, sorted by key then time (see the module doc)."""

    start: float
    window_seconds: float
    rate: dict[str, float]
    groups: int
    endpoints: tuple[str, ...]
    deployed_ttl: dict[str, float]
    # per key
    key_endpoint: np.ndarray
    key_name: np.ndarray
    key_hash: np.ndarray
    key_start: np.ndarray
    key_stop: np.ndarray
    # per request
    row: np.ndarray
    t: np.ndarray
    kid: np.ndarray
    is_first: np.ndarray
    inv_gap: np.ndarray
    chg_gap: np.ndarray
    chg_epoch: np.ndarray
    epoch_end: np.ndarray
    dt: np.ndarray
    sure_miss: np.ndarray
    ttl_us: np.ndarray
    size: np.ndarray
    cell: np.ndarray
    result: np.ndarray
    reason: np.ndarray
    has_changes: bool = False
    has_invalidations: bool = False

    @property
    def requests(self) -> int:
        return int(self.t.size)

    @property
    def keys(self) -> int:
        return int(self.key_start.size)

    @property
    def span_us(self) -> int:
        return int(self.t.max()) + 1 if self.t.size else 1


def build_timelines(
    events: pd.DataFrame,
    groups: int = 20,
    deployed_ttl: Mapping[str, float] | None = None,
    default_sizes: Mapping[str, float] | None = None,
) -> Timelines:
    """Prepare normalized ``events`` (``ttlreview.events.normalize``) for replay.

    ``groups`` sub-samples split the hash space for confidence intervals;
    ``deployed_ttl`` (seconds per endpoint) overrides the TTL the events report,
    ``default_sizes`` the entry size used where the events carry none. ``rate`` is, per
    endpoint, the smallest sampling rate of its events (``events.consistent_sample``
    makes every key's timeline whole at that rate).
    """
    if groups < 2:
        raise ValueError("at least 2 sub-sample groups are needed for a confidence interval")
    ts = events["ts"].to_numpy()
    start = float(ts.min()) if ts.size else 0.0
    window = max(float(ts.max()) - start, 1e-6) if ts.size else 1e-6
    is_req = (events["event"] == "request").to_numpy()
    req = events.loc[is_req]

    ep_codes, ep_names = pd.factorize(events["endpoint"], sort=True)
    endpoints = tuple(str(e) for e in ep_names)
    req_ep = ep_codes[is_req].astype(np.int64)
    key_codes, key_names = pd.factorize(req["key"])
    pair = req_ep * max(len(key_names), 1) + key_codes
    kid_raw, pair_first = np.unique(pair, return_index=True)
    kid_of_row = np.searchsorted(kid_raw, pair)
    order = np.argsort(kid_of_row, kind="stable")  # rows are time-ordered already
    kid = kid_of_row[order].astype(np.int64)
    t = np.rint((req["ts"].to_numpy()[order] - start) * US).astype(np.int64)
    n_keys = kid_raw.size
    key_start = np.searchsorted(kid, np.arange(n_keys), "left").astype(np.int64)
    key_stop = np.append(key_start[1:], kid.size).astype(np.int64)
    is_first = np.zeros(kid.size, dtype=bool)
    is_first[key_start] = True

    key_endpoint = req_ep[pair_first].astype(np.int32)
    key_name = np.asarray(req["key"].to_numpy()[pair_first], dtype=object)
    key_hash = key_hashes([endpoints[e] for e in key_endpoint], key_name)
    key_group = (key_hash % np.uint64(groups)).astype(np.int64)
    req_ep_sorted = req_ep[order]

    deployed = _deployed_ttls(req, endpoints, deployed_ttl)
    lowest = events.groupby("endpoint")["rate"].min()
    rate = {name: float(lowest.get(name, 1.0)) for name in endpoints}
    ttl_field = req["ttl"].to_numpy()[order]
    for name in deployed_ttl or {}:
        if name in endpoints:  # an override replaces what that endpoint's events report
            ttl_field = np.where(req_ep_sorted == endpoints.index(name), np.nan, ttl_field)
    ep_ttl = np.array([deployed[e] for e in endpoints] or [FALLBACK_TTL], dtype=np.float64)
    ttl_s = np.where(np.isnan(ttl_field), ep_ttl[req_ep_sorted], ttl_field)
    ttl_us = np.rint(ttl_s * US).astype(np.int64)

    size = _entry_sizes(req["size"].to_numpy()[order], kid, key_endpoint, endpoints, default_sizes)

    inv_gap, has_inv = _next_gap(
        events,
        "invalidate",
        ep_codes,
        start,
        kid,
        t,
        req_ep_sorted,
        key_endpoint,
        key_name,
        endpoints,
    )
    chg_gap, has_chg = _next_gap(
        events, "change", ep_codes, start, kid, t, req_ep_sorted, key_endpoint, key_name, endpoints
    )

    dt = np.empty(t.size, dtype=np.int64)
    dt[1:] = t[1:] - t[:-1]
    dt[is_first] = NEVER
    sure_miss = is_first.copy()
    # an invalidation between a key's consecutive requests: the later one must miss
    sure_miss[1:] |= inv_gap[:-1] <= dt[1:]
    chg_epoch = _change_epochs(chg_gap, dt, is_first)

    codes, names = pd.factorize(req["result"])
    lookup = np.array([RESULT_CODES.get(str(n), -1) for n in names] + [-1], dtype=np.int8)
    result = lookup[codes[order]]
    return Timelines(
        start=start,
        window_seconds=window,
        rate=rate,
        groups=groups,
        endpoints=endpoints,
        deployed_ttl=deployed,
        key_endpoint=key_endpoint,
        key_name=key_name,
        key_hash=key_hash,
        key_start=key_start,
        key_stop=key_stop,
        t=t,
        kid=kid,
        row=np.flatnonzero(is_req)[order],
        is_first=is_first,
        inv_gap=inv_gap,
        chg_gap=chg_gap,
        chg_epoch=chg_epoch,
        epoch_end=np.searchsorted(chg_epoch, chg_epoch, "right"),
        dt=dt,
        sure_miss=sure_miss,
        ttl_us=ttl_us,
        size=size,
        cell=req_ep_sorted * groups + key_group[kid],
        result=result,
        reason=req["reason"].to_numpy()[order],
        has_changes=has_chg,
        has_invalidations=has_inv,
    )


def _change_epochs(chg_gap: np.ndarray, dt: np.ndarray, is_first: np.ndarray) -> np.ndarray:
    """A counter along the rows that grows by one at every row whose data changed since
    the row before (same key), and at every key's first row: two rows of a key have the
    same epoch iff no change happened between them."""
    bump = is_first.copy()
    bump[1:] |= chg_gap[:-1] <= dt[1:]
    return np.cumsum(bump, dtype=np.int64)


def _deployed_ttls(
    req: pd.DataFrame, endpoints: tuple[str, ...], given: Mapping[str, float] | None
) -> dict[str, float]:
    """Per endpoint: ``given``, else the TTL its last request reported, else the rollout's."""
    last = req.dropna(subset=["ttl"]).groupby("endpoint")["ttl"].last()
    out: dict[str, float] = {}
    for name in endpoints:
        if given and name in given:
            out[name] = float(given[name])
        elif name in last.index:
            out[name] = float(last[name])
        else:
            out[name] = float(DEFAULT_DEPLOYED_TTL.get(name, FALLBACK_TTL))
    return out


def _entry_sizes(
    sizes: np.ndarray,
    kid: np.ndarray,
    key_endpoint: np.ndarray,
    endpoints: tuple[str, ...],
    defaults: Mapping[str, float] | None,
) -> np.ndarray:
    """Per request, its key's mean known size, else its endpoint's, else the default."""
    n_keys = key_endpoint.size
    known = np.isfinite(sizes) & (sizes > 0)
    key_sum = np.bincount(kid[known], weights=sizes[known], minlength=n_keys)
    key_cnt = np.bincount(kid[known], minlength=n_keys)
    ep_sum = np.bincount(key_endpoint, weights=key_sum, minlength=len(endpoints))
    ep_cnt = np.bincount(key_endpoint, weights=key_cnt, minlength=len(endpoints))
    fallback = {**DEFAULT_ENTRY_SIZE, **(defaults or {})}
    ep_size = np.array(
        [
            ep_sum[i] / ep_cnt[i] if ep_cnt[i] else fallback.get(e, FALLBACK_ENTRY_SIZE)
            for i, e in enumerate(endpoints)
        ],
        dtype=np.float64,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        key_size = np.where(key_cnt > 0, key_sum / np.maximum(key_cnt, 1), ep_size[key_endpoint])
    return key_size[kid] if kid.size else np.zeros(0)


def _next_gap(
    events: pd.DataFrame,
    kind: str,
    ep_codes: np.ndarray,
    start: float,
    kid: np.ndarray,
    t: np.ndarray,
    req_ep: np.ndarray,
    key_endpoint: np.ndarray,
    key_name: np.ndarray,
    endpoints: tuple[str, ...],
) -> tuple[np.ndarray, bool]:
    """Per request: µs until the next ``kind`` event of its key or endpoint (strictly later)."""
    nxt = np.full(t.size, NEVER, dtype=np.int64)
    mask = (events["event"] == kind).to_numpy()
    if not mask.any() or t.size == 0:
        return nxt, bool(mask.any())
    sel = events.loc[mask]
    when = np.rint((sel["ts"].to_numpy() - start) * US).astype(np.int64)
    star = (sel["key"] == ALL_KEYS).to_numpy()
    codes = ep_codes[mask]
    for code in np.unique(codes[star]):
        times = np.sort(when[star & (codes == code)])
        rows = np.flatnonzero(req_ep == code)
        idx = np.searchsorted(times, t[rows], "right")
        found = idx < times.size
        hit = rows[found]
        nxt[hit] = np.minimum(nxt[hit], times[idx[found]])
    if (~star).any():
        keys = pd.MultiIndex.from_arrays(
            [np.asarray(endpoints, dtype=object)[key_endpoint], key_name]
        )
        sel_keys = pd.MultiIndex.from_arrays(
            [sel["endpoint"].to_numpy()[~star], sel["key"].to_numpy()[~star]]
        )
        ev_kid = keys.get_indexer(sel_keys)
        known = ev_kid >= 0
        ev_kid, ev_t = ev_kid[known].astype(np.int64), when[~star][known]
        rows = np.flatnonzero(np.isin(kid, ev_kid))  # only keys with events of their own
        r_kid, r_t = kid[rows], t[rows]
        # requests and events merged per key in time order, an event before a request at a tie
        all_kid = np.concatenate([r_kid, ev_kid])
        all_t = np.concatenate([r_t, ev_t])
        is_ev = np.concatenate([np.zeros(r_t.size, np.int8), np.ones(ev_t.size, np.int8)])
        order = np.lexsort((-is_ev, all_t, all_kid))
        val = np.where(is_ev[order] == 1, all_t[order], NEVER)
        # the running minimum from the end, per key, includes the row itself: NEVER for requests
        rev = pd.Series(val[::-1]).groupby(all_kid[order][::-1]).cummin().to_numpy()[::-1]
        per_key = np.empty(all_t.size, dtype=np.int64)
        per_key[order] = rev
        nxt[rows] = np.minimum(nxt[rows], per_key[: r_t.size])
    gap = np.where(nxt >= NEVER, NEVER, nxt - t)
    return gap.astype(np.int64), True
