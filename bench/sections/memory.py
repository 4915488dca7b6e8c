"""7. Redis memory per entry, per endpoint, against Flask-Caching's serialization of the same.

cachewatch stores a 24-byte header (magic, created, TTL, compute time) and the
response body as sent. Flask-Caching's RedisCache pickles what the view
returns; shown for the two usual returns: the serialized bytes (as in the
throughput comparison) and the data as a dict (Flask serializes it on every hit).
`MEMORY USAGE key SAMPLES 0` is Redis' own count, key and overhead included.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis

from bench.context import Context, get
from service import envelope
from service.keys import cache_key

ENTRIES: dict[str, tuple[str, dict[str, Any]]] = {
    "areas": ("/api/areas/buy", {"listing_type": "buy"}),
    "property_types": ("/api/property-types/buy", {"listing_type": "buy"}),
    "valuation": (
        "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=75",
        {
            "p": {
                "area": "northfield",
                "property_type": "flat",
                "bedrooms": 2,
                "size_sqm": 75,
                "listing_type": "buy",
            }
        },
    ),
}


def _usage(client: redis.Redis, key: str) -> int:
    used = client.memory_usage(key, samples=0)
    if used is None:
        raise RuntimeError(f"{key} is not in Redis")
    return int(used)


def run(ctx: Context) -> str:
    from flask_caching.backends.rediscache import RedisCache

    client = redis.Redis.from_url(ctx.redis.url)
    kwargs = client.connection_pool.connection_kwargs
    fc = RedisCache(host=kwargs["host"], port=kwargs["port"], key_prefix="flask_cache_")
    server = ctx.cachewatch()
    rows: list[tuple[str, int, int, int, int, int]] = []
    try:
        for name, (path, params) in ENTRIES.items():
            _, _, body, _ = get(server.port, path)
            key = cache_key(name, params).key
            raw = client.get(key)
            assert isinstance(raw, bytes) and envelope.unpack(raw).body == body
            cw = _usage(client, key)
            fc.set(f"view/{path}", (body, 200, {"Content-Type": "application/json"}), 3600)
            fc_bytes = _usage(client, f"flask_cache_view/{path}")
            fc.set(f"dict/{path}", orjson.loads(body), 3600)
            fc_dict = _usage(client, f"flask_cache_dict/{path}")
            rows.append((name, len(body), len(raw), cw, fc_bytes, fc_dict))
    finally:
        server.cleanup()
    lines = [
        "| endpoint | body | cachewatch value | cachewatch MEMORY USAGE "
        "| Flask-Caching, bytes returned | Flask-Caching, dict returned "
        "| cachewatch / Flask-Caching |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, size, value, cw, fc_bytes, fc_dict in rows:
        lines.append(
            f"| {name} | {size:,} B | {value:,} B | {cw:,} B | {fc_bytes:,} B | {fc_dict:,} B "
            f"| {cw / fc_bytes:.2f} / {cw / fc_dict:.2f} |"
        )
    lines += [
        "",
        "Each worker's near cache holds at most CACHE_NEAR_SIZE entries (default 1,024, least "
        "recently used out first), each the body plus about 150 bytes of Python objects.",
    ]
    return "\n".join(lines)
