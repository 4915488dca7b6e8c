"""5. Degraded modes: the price of a dead or paused Redis, and a stampede on one cold key.

Added latency is measured in-process (bench/degraded_inproc.py) against the same
app with caching disabled, on a cheap route, so that only the cache layer's
share shows. The stampede is real: 200 concurrent clients, one cold key, the
service under gunicorn, and the database computations read from
`cachewatch_backend_duration_seconds_count`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis

from bench.context import Context, get
from bench.inproc import run_child
from bench.servers import RedisServer
from bench.stats import median, percentile, verdict
from service.keys import cache_key
from tests.support.procs import free_port

TARGET_MS = 1.0
CLIENTS = 200
STAMPEDE_PATH = "/api/areas/rent"


def run(ctx: Context) -> str:
    rounds = ctx.rounds(full=5, quick=1)
    calls = ctx.rounds(full=2000, quick=200)
    with RedisServer() as paused:
        result = run_child(
            "degraded",
            ctx.state,
            payload_file=ctx.payload_file(),
            redis_url=ctx.redis.url,
            database_url=ctx.database_url,
            paused_redis_url=paused.url,  # type: ignore[attr-defined]
            dead_redis_url=f"redis://127.0.0.1:{free_port()}/0",
            rounds=rounds,
            calls=calls,
        )
    stampedes = stampede(ctx, ctx.rounds(full=5, quick=1))
    return _render(result, stampedes)


def stampede(ctx: Context, rounds: int) -> list[dict[str, Any]]:
    """Per round: CLIENTS concurrent GETs of one cold key; the database computations they cost."""
    server = ctx.cachewatch()
    client = redis.Redis.from_url(ctx.redis.url)
    key = cache_key("areas", {"listing_type": "rent"}).key
    out = []
    try:
        get(server.port, "/api/areas/buy")  # both workers' first-request costs out of the way
        get(server.port, "/api/areas/buy")
        for _ in range(rounds):
            client.delete(key)
            before = server.metric("cachewatch_backend_duration_seconds_count", endpoint="areas")
            barrier = threading.Barrier(CLIENTS)
            with ThreadPoolExecutor(CLIENTS) as pool:
                jobs = [pool.submit(_one, server.port, barrier) for _ in range(CLIENTS)]
                answers = [job.result() for job in jobs]
            after = server.metric("cachewatch_backend_duration_seconds_count", endpoint="areas")
            waits = server.metric("cachewatch_cache_lock_waits_total", endpoint="areas")
            out.append(
                {
                    "computations": after - before,
                    "ok": sum(status == 200 for status, _, _ in answers),
                    "results": {
                        r: sum(x == r for _, x, _ in answers) for r in ("HIT", "MISS", "BYPASS")
                    },
                    "slowest": max(s for _, _, s in answers),
                    "lock_waits": waits,
                }
            )
            ctx.note(
                f"degraded: stampede round {len(out)}/{rounds}: {after - before:g} computations"
            )
    finally:
        server.cleanup()
    return out


def _one(port: int, barrier: threading.Barrier) -> tuple[int, str, float]:
    barrier.wait()
    seconds, status, _body, headers = get(port, STAMPEDE_PATH, timeout=120)
    return status, headers.get("X-Cache", ""), seconds


def _added(blocks: dict[str, list[list[float]]], mode: str, q: float | None) -> float:
    """Median over rounds of (mode − disabled) in ms, at percentile q (None: the mean)."""

    def stat(xs: list[float]) -> float:
        return sum(xs) / len(xs) if q is None else percentile(xs, q)

    pairs = zip(blocks[mode], blocks["disabled"], strict=True)
    return median([(stat(a) - stat(b)) * 1000 for a, b in pairs])


def _render(result: dict[str, Any], stampedes: list[dict[str, Any]]) -> str:
    blocks = result["blocks"]
    rounds, calls = len(blocks["disabled"]), len(blocks["disabled"][0])
    reset = result["breaker"]["down"]
    lines = [
        f"{rounds} interleaved rounds of {calls:,} requests per mode; added latency is the "
        "median over rounds of (mode − caching disabled). The breaker opens after 3 failures "
        f"and lets one trial request through every {reset:g} s; the Redis socket timeout is "
        f"{result['socket_timeout'] * 1000:g} ms.",
        "",
        "| Redis | added p50 | added mean | added p99 | slowest request | bypass reasons counted |",
        "|---|---|---|---|---|---|",
    ]
    for mode, text in (
        ("down", "down (nothing listens)"),
        ("paused", "paused (`CLIENT PAUSE ALL`)"),
    ):
        slowest = max(max(b) for b in blocks[mode]) * 1000
        reasons = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(result["reasons"][mode].items()))
        p50, mean, p99 = (_added(blocks, mode, q) * 1000 for q in (50, None, 99))
        lines.append(
            f"| {text} | {p50:.0f} µs | {mean:.0f} µs | {p99:.0f} µs "
            f"| {slowest:.1f} ms | {reasons} |"
        )

    def listed(xs: list[float]) -> str:
        return ", ".join(f"{x * 1000:.1f}" for x in xs)

    timeout_ms = result["socket_timeout"] * 1000
    worst_mean = max(_added(blocks, m, None) for m in ("down", "paused"))
    amortized_us = timeout_ms * 1000 / (reset * 1000)  # at 1,000 requests/s per worker
    lines += [
        "",
        "The first requests after the failure, in ms. Redis down: "
        f"{listed(result['first']['down'])}. Redis paused: {listed(result['first']['paused'])} "
        "(the entry was in the near cache, and stays valid: nothing can write to a paused "
        "Redis either); the tracking connection's PING went unanswered and the near cache was "
        f"flushed {result['near_flushed_after']:.1f} s after the pause; the next requests: "
        f"{listed(result['after_flush'])} (each of the first three waits for the "
        f"{timeout_ms:g} ms socket timeout, then the breaker is open).",
        "",
        f"Target ≤ {TARGET_MS:g} ms added per request once the breaker is open: "
        f"{worst_mean * 1000:.0f} µs on average in the worse mode, "
        f"{verdict(worst_mean <= TARGET_MS)}. Not in these short blocks: the breaker's "
        f"half-open trial, one request per worker every {reset:g} s, which pays the socket "
        f"timeout again while Redis is paused; at 1,000 requests per second per worker that "
        f"adds {amortized_us:.0f} µs per request on average.",
        "",
        f"Stampede: {CLIENTS} concurrent requests on one cold key (`{STAMPEDE_PATH}`), "
        f"{len(stampedes)} rounds, the key deleted before each:",
        "",
        "| round | database computations | 200 OK | MISS / HIT | slowest response |",
        "|---|---|---|---|---|",
    ]
    for i, s in enumerate(stampedes, 1):
        lines.append(
            f"| {i} | {s['computations']:g} | {s['ok']} | {s['results']['MISS']} / "
            f"{s['results']['HIT']} | {s['slowest']:.2f} s |"
        )
    worst = max(s["computations"] for s in stampedes)
    lines += [
        "",
        f"Target 1 computation per cold key: at most {worst:g} in a round, {verdict(worst <= 1)}.",
    ]
    return "\n".join(lines)
