"""Sampled events into a real Redis, as the service writes them (service/sampling.py).

    xadd_events(connect(redis_server.url), zipf_events(3_000, 300, start=time.time() - 86400))

Used by the stream tests here and by the dashboard's TTL page tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import redis

from ttlreview.events import STREAM_KEY


def xadd_events(client: redis.Redis, events: pd.DataFrame, maxlen: int = 1_000_000) -> None:
    """Write events as the service does: string fields, ID from the event's time."""
    pipe = client.pipeline(transaction=False)
    for row in events.itertuples(index=False):
        fields: dict[Any, Any] = {
            "ts": repr(row.ts),
            "endpoint": row.endpoint,
            "key": row.key,
            "event": row.event,
            "result": row.result,
            "reason": row.reason,
            "size": "" if np.isnan(row.size) else str(int(row.size)),
            "ttl": "" if np.isnan(row.ttl) else str(int(row.ttl)),
            "rate": str(row.rate),
        }
        pipe.xadd(STREAM_KEY, fields, id=f"{int(row.ts * 1000)}-*", maxlen=maxlen, approximate=True)
    pipe.execute()
