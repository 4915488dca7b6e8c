"""Degraded modes in-process: what a request pays when Redis is down or paused.

    python -m bench.inproc degraded --redis-url ... --dead-redis-url ... --paused-redis-url ...

Three instances of the app, each with one cheap cached route (the view returns
data already in memory, so the database does not drown the difference):
caching disabled (the reference: compute and serialize), Redis down (nothing
listens on its port) and Redis paused (`CLIENT PAUSE ... ALL`: commands hang
until the socket timeout). Run from bench.inproc, in a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import redis

from bench.inproc import cachewatch_app, each_call, wsgi_call
from service.cache import cached
from service.keys import cache_key

PATH = "/bench/cheap"
PAUSE_MS = 30 * 60 * 1000


def _with_cheap_route(app: Any, data: Any) -> Any:
    def view(listing_type: str) -> Any:
        return data

    wrapped = cached("property_types", params=lambda: {"listing_type": "bench-cheap"})(view)
    app.add_url_rule(PATH, "bench_cheap", wrapped)
    return app


def _reasons(app: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in app.extensions["cachewatch.cache"].metrics.registry.collect():
        for s in family.samples:
            if s.name == "cachewatch_cache_bypass_total" and s.value:
                out[s.labels["reason"]] = out.get(s.labels["reason"], 0.0) + s.value
    return out


def degraded(args: argparse.Namespace) -> dict[str, Any]:
    data = json.loads(Path(os.environ["BENCH_PAYLOAD_FILE"]).read_bytes())
    db = args.database_url
    apps = {
        "disabled": cachewatch_app(args.redis_url, db, REDIS_ENABLED="false"),
        "down": cachewatch_app(args.dead_redis_url, db, wait_for_tracking=False),
        "paused": cachewatch_app(args.paused_redis_url, db),
    }
    calls = {name: wsgi_call(_with_cheap_route(app, data), PATH) for name, app in apps.items()}
    near = apps["paused"].extensions["cachewatch.cache"].near
    key = cache_key("property_types", {"listing_type": "bench-cheap"}).key
    for _ in range(50):  # a miss, then hits until the entry is in the near cache too
        calls["paused"]()
        if near is None or key in near:
            break
        time.sleep(0.02)
    redis.Redis.from_url(args.paused_redis_url).execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    started = time.monotonic()
    first = {name: each_call(calls[name], 6) for name in ("down", "paused")}
    # Near-cache entries stay valid while Redis is paused (nothing can write either);
    # they go when the tracking PING times out.
    while near is not None and near.listener.connected and time.monotonic() - started < 10:
        time.sleep(0.01)
    flushed_after = time.monotonic() - started
    after_flush = each_call(calls["paused"], 6)
    blocks: dict[str, list[list[float]]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            blocks[name].append(each_call(calls[name], args.calls))
    return {
        "first": first,
        "after_flush": after_flush,
        "near_flushed_after": flushed_after,
        "blocks": blocks,
        "reasons": {name: _reasons(app) for name, app in apps.items()},
        "breaker": {
            name: app.extensions["cachewatch.cache"].store.breaker.reset_seconds
            for name, app in apps.items()
        },
        "socket_timeout": apps["paused"]
        .extensions["cachewatch.cache"]
        .settings.redis_socket_timeout,
    }
