"""What-if replay: every sampled key's requests against a cache-aside cache with a fixed TTL.

    >>> from ttlreview.events import normalize
    >>> import pandas as pd
    >>> events = normalize(pd.DataFrame({"ts": [0, 10, 50, 70, 200], "endpoint": ["areas"] * 5,
    ...     "key": ["k"] * 5, "event": ["request"] * 5, "result": ["miss"] * 5}))
    >>> tl = build_timelines(events)
    >>> stats = replay_stats(tl, [60])
    >>> dict(zip(STATS, stats[0].sum(axis=0).round(1).tolist()))["hits"]
    2.0
    >>> replay_detail(tl, 60 * US).kind.tolist()   # 4: warm-up, 0: hit, 2: expired miss
    [4, 0, 0, 2, 2]

Semantics (cache-aside, no extension on read): a miss fills the entry, which
then lives ``ttl`` seconds; a request at ``t`` hits iff ``fill <= t < fill + ttl``
and no invalidation of its key (or of its whole endpoint) happened in
``(fill, t]``. A hit is stale when its data changed in ``(fill, t]``. The first
request of a key counts as a cold miss, except when it falls in the warm-up
``[start, start + ttl)``: then the cache might have held the key from before the
window, and that request is left out of requests and misses alike.

The replay is vectorized across keys: from each fill, the next fill is the
first request at or after the entry's death (``searchsorted``), and the fills of
all keys are followed in lock-step; the few long chains of hot keys are
finished with ``bisect`` in a tight loop.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Callable, Sequence

import numpy as np

from ttlreview.timeline import US, Timelines, build_timelines

__all__ = [
    "STATS",
    "US",
    "Detail",
    "build_timelines",
    "replay_detail",
    "replay_stats",
    "requests_within",
]

#: The counters ``replay_stats`` returns per TTL and cell, in this order. ``requests``
#: excludes warm-up; ``fills`` and ``life_byte_seconds`` include it.
STATS = (
    "requests",
    "hits",
    "cold",
    "expired",
    "invalidation",
    "stale",
    "warmup",
    "fills",
    "life_byte_seconds",
)
_TAIL = 16  # chains left when the lock-step loop hands over to bisect
_MAX_BLOCK_REQUESTS = 1 << 22


@dataclasses.dataclass
class Detail:
    """Per request outcome of one replay: ``kind`` 0 hit, 1 cold, 2 expired, 3 invalidated,
    4 warm-up (excluded); ``stale`` marks stale hits; ``fill`` the requests that filled."""

    fill: np.ndarray
    kind: np.ndarray
    stale: np.ndarray


class _Blocks:
    """Keys cut into blocks whose (key, time) composite fits in int64, with the composite."""

    def __init__(self, tl: Timelines, max_ttl_us: int) -> None:
        width = tl.span_us + max_ttl_us + 1
        max_keys = max(1, (1 << 62) // width)
        self.bounds: list[tuple[int, int, int, int]] = []  # req lo, hi, key lo, hi
        k = 0
        while k < tl.keys:
            lo = int(tl.key_start[k])
            k_hi = min(tl.keys, k + max_keys)
            limit = lo + _MAX_BLOCK_REQUESTS
            cut = int(np.searchsorted(tl.key_start, limit, "right"))
            k_hi = max(k + 1, min(k_hi, cut))
            hi = int(tl.key_stop[k_hi - 1])
            self.bounds.append((lo, hi, k, k_hi))
            k = k_hi
        self.comp = np.empty(tl.requests, dtype=np.int64)
        for lo, hi, k_lo, _ in self.bounds:
            self.comp[lo:hi] = (tl.kid[lo:hi] - k_lo) * width + tl.t[lo:hi]


def _at(ttl: int | np.ndarray, where: np.ndarray | slice) -> int | np.ndarray:
    """The TTL of the rows ``where``: the scalar itself, or the per-request values there."""
    return ttl[where] if isinstance(ttl, np.ndarray) else ttl


def _fills(tl: Timelines, blocks: _Blocks, ttl: int | np.ndarray) -> np.ndarray:
    """The requests that miss and fill, for one TTL (µs; scalar or one per request).

    A request is a sure miss when its key's previous request is ``ttl`` or more
    before it, or an invalidation came in between: these misses cut each key's
    requests into segments, and only a segment lasting ``ttl`` or longer has
    fills inside it, found by following the chain of entry deaths.
    """
    fills = tl.sure_miss | (tl.dt >= ttl)
    starts = np.flatnonzero(fills)
    stops = np.append(starts[1:], tl.requests)
    long = tl.t[stops - 1] - tl.t[starts] >= _at(ttl, starts)
    front, stop = starts[long], stops[long]
    cuts = np.searchsorted(front, [lo for lo, *_ in blocks.bounds[1:]])
    for (lo, hi, _, _), b_front, b_stop in zip(
        blocks.bounds, np.split(front, cuts), np.split(stop, cuts), strict=True
    ):
        block = slice(lo, hi)
        _follow(
            blocks.comp[block],
            tl.inv_gap[block],
            _at(ttl, block),
            b_front - lo,
            b_stop - lo,
            fills[block],
        )
    return fills


def _follow(
    comp: np.ndarray,
    gap: np.ndarray,
    ttl: int | np.ndarray,
    front: np.ndarray,
    stop: np.ndarray,
    fills: np.ndarray,
) -> None:
    """Mark the fills inside long segments ``[front, stop)`` of one block, all in lock-step."""
    while front.size > _TAIL:
        step = np.minimum(gap[front], _at(ttl, front))
        nxt = np.searchsorted(comp, comp[front] + step, "left")
        keep = nxt < stop
        front, stop = nxt[keep], stop[keep]
        fills[front] = True
    for i, end in zip(front.tolist(), stop.tolist(), strict=True):
        step_all = np.minimum(gap[i:end], _at(ttl, slice(i, end)))
        _chain(comp[i:end].tolist(), (comp[i:end] + step_all).tolist(), fills[i:end])


def _chain(times: list[int], deaths: list[int], out: np.ndarray) -> None:
    """Follow one key's fills: each next fill is the first request at/after the entry's death."""
    picked = []
    j, n = 0, len(times)
    while j < n:
        picked.append(j)
        j = bisect_left(times, deaths[j], j + 1)
    out[picked] = True


def _stale(tl: Timelines, fills: np.ndarray) -> np.ndarray:
    """Hits served by an entry whose data changed after its fill."""
    if not tl.has_changes:
        return np.zeros(tl.requests, dtype=bool)
    # chg_epoch grows along the rows, so the running max over fills is the serving fill's epoch
    seen = np.maximum.accumulate(np.where(fills, tl.chg_epoch, -1))
    return tl.chg_epoch > seen


class _Fills:
    """The fills of one replay and, for each, how its miss counts and what its entry holds."""

    EXPIRED, COLD, WARM, INVALIDATED = 0, 1, 2, 3

    def __init__(self, tl: Timelines, fills: np.ndarray, ttl: int | np.ndarray) -> None:
        idx = np.flatnonzero(fills)
        first = tl.is_first[idx]
        ttl_f = _at(ttl, idx)
        gap = tl.inv_gap[idx]
        warm = first & (tl.t[idx] < ttl_f)
        # 0 expired, 1 cold (first of its key), 2 warm-up (first, inside [start, start + ttl))
        kind = first.view(np.int8) + warm.view(np.int8)
        if tl.has_invalidations and idx.size > 1:
            # the fill before is this key's previous entry: did an invalidation end it early?
            ttl_prev = ttl_f[:-1] if isinstance(ttl_f, np.ndarray) else ttl_f
            kind[1:][~first[1:] & (gap[:-1] < ttl_prev)] = self.INVALIDATED
        self.idx, self.kind = idx, kind
        self.cell = tl.cell[idx]
        self.life = np.minimum(np.minimum(gap, ttl_f), int(tl.window_seconds * US))

    def stale_hits(self, tl: Timelines) -> np.ndarray:
        """Per fill, how many of the hits it served came after its data changed: the rows up
        to the next fill, past the end of the fill's change epoch."""
        nxt = np.empty_like(self.idx)
        nxt[:-1] = self.idx[1:]
        nxt[-1:] = tl.requests
        return np.maximum(nxt - tl.epoch_end[self.idx], 0)


def replay_stats(
    tl: Timelines,
    ttls_seconds: Sequence[float],
    progress: Callable[[int], object] | None = None,
) -> np.ndarray:
    """Counters per TTL and cell (endpoint × sub-sample group): shape (ttls, cells, STATS).

    ``progress(n)`` is called after each TTL with the number of requests replayed.
    """
    cells = len(tl.endpoints) * tl.groups
    out = np.zeros((len(ttls_seconds), cells, len(STATS)), dtype=np.float64)
    if tl.requests == 0:
        return out
    ttls_us = [round(s * US) for s in ttls_seconds]
    blocks = _Blocks(tl, max(ttls_us))
    total = np.bincount(tl.cell, minlength=cells)
    for n, ttl in enumerate(ttls_us):
        f = _Fills(tl, _fills(tl, blocks, ttl), ttl)
        by_kind = np.bincount(f.cell * 4 + f.kind, minlength=cells * 4).reshape(cells, 4)
        expired, cold, warm, inval = (by_kind[:, k] for k in range(4))
        nfill = by_kind.sum(axis=1)
        row = out[n]
        row[:, 0] = total - warm
        row[:, 1] = total - nfill
        row[:, 2] = cold
        row[:, 3] = expired
        row[:, 4] = inval
        if tl.has_changes:
            row[:, 5] = np.bincount(f.cell, weights=f.stale_hits(tl), minlength=cells)
        row[:, 6] = warm
        row[:, 7] = nfill
        row[:, 8] = np.bincount(f.cell, weights=tl.size[f.idx] * f.life, minlength=cells) / US
        if progress is not None:
            progress(tl.requests)
    return out


def replay_detail(tl: Timelines, ttl_us: int | np.ndarray) -> Detail:
    """Per request outcome for one TTL in µs (a scalar, or one per request such as ``tl.ttl_us``:
    each entry then lives the TTL its filling request reported)."""
    blocks = _Blocks(tl, int(np.max(ttl_us)) if np.size(ttl_us) else 0)
    fills = _fills(tl, blocks, ttl_us)
    f = _Fills(tl, fills, ttl_us)
    kind = np.zeros(tl.requests, dtype=np.int8)
    kind[f.idx] = np.array([2, 1, 4, 3], dtype=np.int8)[f.kind]
    return Detail(fill=fills, kind=kind, stale=_stale(tl, fills))


def requests_within(tl: Timelines, rows: np.ndarray, seconds: float) -> np.ndarray:
    """For each of ``rows`` (sorted), how many requests of its key fall in ``[t, t + seconds)``."""
    span = round(seconds * US)
    blocks = _Blocks(tl, span)
    out = np.empty(rows.size, dtype=np.int64)
    cuts = np.searchsorted(rows, [lo for lo, *_ in blocks.bounds[1:]])
    for (lo, hi, _, _), part, where in zip(
        blocks.bounds, np.split(rows, cuts), np.split(np.arange(rows.size), cuts), strict=True
    ):
        comp = blocks.comp[lo:hi]
        out[where] = np.searchsorted(comp, comp[part - lo] + span, "left") - (part - lo)
    return out
