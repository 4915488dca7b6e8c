"""The alternatives cachewatch is measured against, as gunicorn app factories.

    gunicorn -w 2 'bench.apps:bare()'             # the same bytes from memory: the ceiling
    gunicorn -w 2 'bench.apps:redis_get()'        # a hand-written `redis.get` view
    gunicorn -w 2 'bench.apps:flask_caching()'    # Flask-Caching's @cache.cached, RedisCache

Each serves the route cachewatch serves (`/api/property-types/<listing_type>`,
the same routing work) with the bytes in the file `BENCH_PAYLOAD_FILE`, as
`application/json`. The Redis ones read `REDIS_URL`; their entry is written
on the first request, so a benchmark after one warm-up request measures hits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, Response

ROUTE = "/api/property-types/<listing_type>"
REDIS_KEY = "bench:redis_get:payload"
TTL = 3600


def payload() -> bytes:
    return Path(os.environ["BENCH_PAYLOAD_FILE"]).read_bytes()


def bare() -> Flask:
    """The bytes straight from memory: no cache layer, no Redis."""
    body = payload()
    app = Flask("bench_bare")

    @app.get(ROUTE)
    def view(listing_type: str) -> Response:
        return Response(body, mimetype="application/json")

    return app


def redis_get() -> Flask:
    """What one would write by hand: GET the key, else compute and SETEX it."""
    import redis

    body = payload()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    app = Flask("bench_redis_get")

    @app.get(ROUTE)
    def view(listing_type: str) -> Response:
        raw = client.get(REDIS_KEY)
        if raw is None:
            raw = body
            client.setex(REDIS_KEY, TTL, raw)
        return Response(raw, mimetype="application/json")

    return app


def flask_caching() -> Flask:
    """Flask-Caching as its documentation shows it, with the fastest return value.

    The view returns the already serialized bytes (body, status, headers), so a
    hit unpickles a small tuple and Flask builds the response: no JSON work.
    """
    from flask_caching import Cache

    body = payload()
    app = Flask("bench_flask_caching")
    cache = Cache(
        app,
        config={
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": os.environ["REDIS_URL"],
            "CACHE_DEFAULT_TIMEOUT": TTL,
        },
    )

    @app.get(ROUTE)
    @cache.cached(timeout=TTL)
    def view(listing_type: str) -> Any:
        return body, 200, {"Content-Type": "application/json"}

    return app
