"""CSV traces: ``ts,endpoint,key,event,result``, one event per line.

    >>> import io
    >>> text = "ts,endpoint,key,event,result\\n10,areas,ab,request,miss\\n12,areas,*,invalidate,\\n"
    >>> frame = read_trace(io.StringIO(text))
    >>> frame[["ts", "key", "event", "result", "rate"]].values.tolist()
    [[10.0, 'ab', 'request', 'miss', 1.0], [12.0, '*', 'invalidate', '', 1.0]]

A trace carries no rate: it is read as rate 1 (every key) unless ``rate`` says
it was sampled, e.g. a trace exported from the stream at the service's rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pandas as pd

from ttlreview.events import EventError, normalize

TRACE_COLUMNS = ("ts", "endpoint", "key", "event", "result")


def read_trace(source: str | Path | IO[str], rate: float | None = None) -> pd.DataFrame:
    """The events of a CSV trace, normalized (see ``ttlreview.events``)."""
    raw = pd.read_csv(
        source,
        dtype={"endpoint": str, "key": str, "event": str, "result": str},
        keep_default_na=False,
        na_values={"ts": [""]},
    )
    missing = [name for name in TRACE_COLUMNS if name not in raw.columns]
    if missing:
        raise EventError(f"the trace lacks column(s) {missing}; header: {','.join(TRACE_COLUMNS)}")
    return normalize(raw[list(TRACE_COLUMNS)], rate=1.0 if rate is None else rate)


def write_trace(frame: pd.DataFrame, target: str | Path | IO[str]) -> int:
    """Write ``frame``'s events as a CSV trace; return the number of rows written."""
    out = frame[list(TRACE_COLUMNS)]
    out.to_csv(target, index=False)
    return len(out)
