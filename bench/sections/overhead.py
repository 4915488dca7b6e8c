"""3. What the cache layer and its metrics cost per hit, in microseconds, measured in-process.

A child process, set up as a gunicorn worker is (multiprocess metrics on
memory-mapped files), calls each WSGI app directly: no server, no socket, no
client. The Redis round trip is timed on its own (`GET` of the same entry with
the service's redis-py client) and taken out of the Redis-tier figure.
"""

from __future__ import annotations

from typing import Any

from bench.context import Context
from bench.inproc import run_child
from bench.stats import median, verdict

TARGET_US = 30.0

ROWS = {
    "bare": "bare Flask route, the bytes from memory",
    "cachewatch_local": "cachewatch hit, near cache (tier=local)",
    "cachewatch_redis": "cachewatch hit, Redis (tier=redis, near cache off)",
    "redis_get": "hand-written `redis.get` view",
    "flask_caching": "Flask-Caching `@cache.cached`",
    "redis_rtt": "one Redis `GET` of the entry, alone",
    "metrics_only": "the metric updates of one hit, alone",
}


def run(ctx: Context) -> str:
    rounds = ctx.rounds(full=11, quick=2)
    calls = ctx.rounds(full=2000, quick=200)
    # The entry must be in Redis: one request through a server computes it.
    ctx.payload_file()
    result = run_child(
        "overhead",
        ctx.state,
        payload_file=ctx.payload_file(),
        redis_url=ctx.redis.url,
        database_url=ctx.database_url,
        rounds=rounds,
        calls=calls,
    )
    return _render(result)


def _diff(t: dict[str, Any], clock: str, plus: str, *minus: str) -> float:
    """Median over rounds of t[plus] − Σ t[minus], in µs (each round's blocks are adjacent)."""
    rows = zip(t[plus][clock], *(t[m][clock] for m in minus), strict=True)
    return median([(row[0] - sum(row[1:])) * 1e6 for row in rows])


def _render(result: dict[str, Any]) -> str:
    t = result["timings"]
    lines = [
        f"{result['rounds']} rounds of {result['calls']:,} calls per variant, interleaved; "
        "medians over rounds. CPU is this thread's CPU time (`time.thread_time`), which leaves "
        "out the moments the shared machine ran something else; wall is `perf_counter`. "
        f"Multiprocess metrics: {'on' if result['multiprocess'] else 'off'}. Hits counted during "
        f"the run: {result['local_hits']:,.0f} local, {result['redis_hits']:,.0f} from Redis.",
        "",
        "| variant | CPU µs per call | wall µs per call |",
        "|---|---|---|",
    ]
    for name, text in ROWS.items():
        cpu = median(t[name]["cpu"]) * 1e6
        wall = median(t[name]["wall"]) * 1e6
        lines.append(f"| {text} | {cpu:.1f} | {wall:.1f} |")
    local_cpu = _diff(t, "cpu", "cachewatch_local", "bare")
    local_wall = _diff(t, "wall", "cachewatch_local", "bare")
    redis_cpu = _diff(t, "cpu", "cachewatch_redis", "bare", "redis_rtt")
    redis_wall = _diff(t, "wall", "cachewatch_redis", "bare", "redis_rtt")
    hand_cpu = _diff(t, "cpu", "redis_get", "bare", "redis_rtt")
    fc_cpu = _diff(t, "cpu", "flask_caching", "bare", "redis_rtt")
    lines += [
        "",
        "Overhead beyond the bare route (and beyond the Redis round trip, where there is one):",
        "",
        "| | CPU µs | wall µs |",
        "|---|---|---|",
        f"| cachewatch, near-cache hit | {local_cpu:.1f} | {local_wall:.1f} |",
        f"| cachewatch, Redis hit, minus the round trip | {redis_cpu:.1f} | {redis_wall:.1f} |",
        f"| hand-written `redis.get` view, minus the round trip | {hand_cpu:.1f} | – |",
        f"| Flask-Caching, minus the round trip | {fc_cpu:.1f} | – |",
        "",
        f"Target ≤ {TARGET_US:.0f} µs on a hit beyond the Redis round trip (CPU): near-cache hit "
        f"{local_cpu:.1f} µs, {verdict(local_cpu <= TARGET_US)}; Redis hit {redis_cpu:.1f} µs, "
        f"{verdict(redis_cpu <= TARGET_US)}. The metric updates alone cost "
        f"{median(t['metrics_only']['cpu']) * 1e6:.1f} µs of it (a counter, the hit-age and the "
        "request histograms).",
    ]
    return "\n".join(lines)
