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


def _diff(t: dict[str, Any], stat: str, plus: str, *minus: str) -> float:
    """Median over rounds of t[plus] − Σ t[minus], in µs (the variants took turns in each round)."""
    rows = zip(t[plus][stat], *(t[m][stat] for m in minus), strict=True)
    return median([(row[0] - sum(row[1:])) * 1e6 for row in rows])


def _render(result: dict[str, Any]) -> str:
    t = result["timings"]
    lines = [
        f"{result['rounds']} rounds of {result['calls']:,} turns; in each turn every variant "
        "is called once, so a slow moment of the shared machine lands on all of them. Per round, "
        "the median call (which leaves out the calls the machine interrupted) and the mean; "
        "the table gives the median over rounds. Multiprocess metrics: "
        f"{'on' if result['multiprocess'] else 'off'}. Hits counted during the run: "
        f"{result['local_hits']:,.0f} local, {result['redis_hits']:,.0f} from Redis.",
        "",
        "| variant | µs per call, median | µs per call, mean |",
        "|---|---|---|",
    ]
    for name, text in ROWS.items():
        lines.append(
            f"| {text} | {median(t[name]['median']) * 1e6:.1f} "
            f"| {median(t[name]['mean']) * 1e6:.1f} |"
        )
    rows = [
        ("cachewatch, near-cache hit, beyond the bare route", "cachewatch_local", "bare"),
        (
            "cachewatch, Redis hit, beyond the hand-written `redis.get` view "
            "(bare route + one GET, in a request)",
            "cachewatch_redis",
            "redis_get",
        ),
        (
            "cachewatch, Redis hit, beyond the bare route and a `GET` timed alone",
            "cachewatch_redis",
            "bare",
            "redis_rtt",
        ),
        ("Flask-Caching, beyond the hand-written `redis.get` view", "flask_caching", "redis_get"),
    ]
    lines += ["", "| overhead | µs, median | µs, mean |", "|---|---|---|"]
    figures = {}
    for text, plus, *minus in rows:
        figures[text] = _diff(t, "median", plus, *minus)
        lines.append(f"| {text} | {figures[text]:.1f} | {_diff(t, 'mean', plus, *minus):.1f} |")
    local = figures[rows[0][0]]
    remote = figures[rows[1][0]]
    lines += [
        "",
        f"Target ≤ {TARGET_US:.0f} µs per hit beyond the Redis round trip: near-cache hit "
        f"{local:.1f} µs, {verdict(local <= TARGET_US)}; Redis hit {remote:.1f} µs, "
        f"{verdict(remote <= TARGET_US)} (against the hand-written view, which pays the same "
        "round trip inside a request; a `GET` timed alone in a tight loop comes out cheaper "
        "than one made between two requests, so the third row overstates the layer). The "
        "metric updates of a hit (a counter, the hit-age and the request histograms) cost "
        f"{median(t['metrics_only']['median']) * 1e6:.1f} µs of it.",
    ]
    return "\n".join(lines)
