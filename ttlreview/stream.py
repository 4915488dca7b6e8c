"""Reading the service's event stream (``cachewatch:v1:events``) from Redis.

    client = connect("redis://127.0.0.1:6379/0")
    events = read_stream(client, since=time.time() - 7 * 86400)

Stream IDs are millisecond timestamps, so a time window is an ID range: XRANGE
walks it in batches of ``batch`` entries, each next batch starting just after
the last ID seen (an exclusive ``(`` range), so memory stays one batch of raw
replies plus the growing columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import redis

from ttlreview.events import EVENT_COLUMNS, STREAM_KEY, normalize


def connect(url: str) -> redis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``)."""
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def stream_entries(
    client: redis.Redis,
    key: str = STREAM_KEY,
    since: float | None = None,
    until: float | None = None,
    batch: int = 10_000,
) -> Iterator[list[tuple[Any, dict[Any, Any]]]]:
    """Batches of raw ``(id, fields)`` entries between two Unix times (seconds)."""
    low = "-" if since is None else f"{max(0, int(since * 1000))}-0"
    high = "+" if until is None else f"{int(until * 1000)}-18446744073709551615"
    while True:
        entries: list[tuple[Any, dict[Any, Any]]] = client.xrange(  # type: ignore[assignment]
            key, min=low, max=high, count=batch
        )
        if not entries:
            return
        yield entries
        if len(entries) < batch:
            return
        low = "(" + _text(entries[-1][0])


def read_stream(
    client: redis.Redis,
    key: str = STREAM_KEY,
    since: float | None = None,
    until: float | None = None,
    batch: int = 10_000,
    progress: bool = False,
) -> pd.DataFrame:
    """The stream's events between ``since`` and ``until`` as a normalized frame.

    An entry without ``ts`` takes its ID's millisecond time; fields outside the
    contract are ignored.
    """
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="ev", unit_scale=True, desc=f"reading {key}", leave=False)
    names: dict[Any, str] = {name.encode(): name for name in EVENT_COLUMNS}
    names.update({name: name for name in EVENT_COLUMNS})  # decode_responses=True clients
    for entries in stream_entries(client, key, since, until, batch):
        for entry_id, fields in entries:
            row = {names[k]: _text(v) for k, v in fields.items() if k in names}
            if not row.get("ts"):
                row["ts"] = str(int(_text(entry_id).split("-")[0]) / 1000)
            for name in EVENT_COLUMNS:
                columns[name].append(row.get(name, ""))
        if bar is not None:
            bar.update(len(entries))
    if bar is not None:
        bar.close()
    return normalize(pd.DataFrame(columns))


def export_trace(
    client: redis.Redis,
    target: Any,
    key: str = STREAM_KEY,
    since: float | None = None,
    until: float | None = None,
    progress: bool = False,
) -> tuple[int, dict[str, float]]:
    """Write the stream's events as a CSV trace; return (rows, smallest rate per endpoint).

    The trace keeps no rate: review it with ``--rate`` (the rate this returns).
    """
    from ttlreview.trace import write_trace

    frame = read_stream(client, key, since, until, progress=progress)
    rates = {str(e): float(r) for e, r in frame.groupby("endpoint")["rate"].min().items()}
    return write_trace(frame, target), rates
