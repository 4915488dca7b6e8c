"""2. Throughput of a cache hit: cachewatch against the bare route, redis.get and Flask-Caching.

Every server answers the same route with the same bytes (cachewatch's
/api/property-types/buy), under the same gunicorn settings, on the same Redis.
Each round runs wrk against every server in turn (the order rotates), and each
ratio is taken within a round; the table gives the median over rounds.
"""

from __future__ import annotations

from typing import Any

from bench import wrk
from bench.context import PAYLOAD_PATH, Context, get
from bench.servers import DEFAULT, AltServer, describe
from bench.stats import median, num, spread, verdict

CONNECTIONS = 20

#: name: (description, how to start it)
SERVERS = {
    "cachewatch": "cachewatch `@cached`, metrics on, near cache on (the default)",
    "cachewatch_no_near": "cachewatch, CACHE_NEAR_SIZE=0: every hit a Redis GET",
    "bare": "bare Flask route returning the bytes from memory (the ceiling)",
    "redis_get": "hand-written view: `redis.get`, else compute and `SETEX`",
    "flask_caching": "Flask-Caching 2.5.1 `@cache.cached`, `RedisCache`",
}


def start_all(
    ctx: Context, workers: int = DEFAULT.workers, threads: int = DEFAULT.threads
) -> dict[str, Any]:
    payload = ctx.payload_file()
    servers: dict[str, Any] = {}
    try:
        servers["cachewatch"] = ctx.cachewatch(workers=workers, threads=threads)
        servers["cachewatch_no_near"] = ctx.cachewatch(
            workers=workers, threads=threads, env={"CACHE_NEAR_SIZE": "0"}
        )
        for name in ("bare", "redis_get", "flask_caching"):
            server = AltServer(name, payload, ctx.redis.url, workers=workers, threads=threads)
            servers[name] = server.start()
        for server in servers.values():
            for _ in range(4 * workers):  # every worker: miss, then hits (near cache filled)
                get(server.port, PAYLOAD_PATH)
    except BaseException:
        for server in servers.values():
            server.cleanup()
        raise
    return servers


#: Each ratio comes from two runs back to back, so a busy moment of the machine
#: (other tenants) lands on both sides; the order within a pair alternates by round.
PAIRS = [
    ("cachewatch", "bare"),
    ("cachewatch_no_near", "bare"),
    ("redis_get", "bare"),
    ("flask_caching", "bare"),
    ("cachewatch", "flask_caching"),
]


def run(ctx: Context) -> str:
    rounds = ctx.rounds(full=10, quick=1)
    seconds = ctx.seconds(full=3, quick=1)
    servers = start_all(ctx)
    same = {name: get(s.port, PAYLOAD_PATH)[2] for name, s in servers.items()}
    results: dict[str, list[wrk.WrkResult]] = {name: [] for name in servers}
    pairs: dict[tuple[str, str], list[float]] = {pair: [] for pair in PAIRS}
    try:
        for r in range(rounds):
            for a, b in PAIRS[r % len(PAIRS) :] + PAIRS[: r % len(PAIRS)]:
                got = {}
                for name in (a, b) if r % 2 == 0 else (b, a):
                    got[name] = wrk.run(servers[name].url, [PAYLOAD_PATH], CONNECTIONS, seconds)
                    results[name].append(got[name])
                if got[b].rps:
                    pairs[(a, b)].append(got[a].rps / got[b].rps)
            ctx.note(f"throughput: round {r + 1}/{rounds} done")
    finally:
        for server in servers.values():
            server.cleanup()
    return _render(rounds, seconds, results, pairs, same)


def _render(
    rounds: int,
    seconds: float,
    results: dict[str, list[wrk.WrkResult]],
    pairs: dict[tuple[str, str], list[float]],
    bodies: dict[str, bytes],
) -> str:
    size = len(bodies["bare"])
    identical = len(set(bodies.values())) == 1
    lines = [
        f"Payload: {size:,} bytes of JSON ({'identical' if identical else '**not identical**'} "
        f"from every server). gunicorn: {describe(DEFAULT.workers, DEFAULT.threads)} each "
        "(the service's default). Load: "
        f"`wrk -t1 -c{CONNECTIONS} -d{seconds:g}s` per run; {rounds} rounds, in each every "
        "ratio from two runs back to back (their order alternating); medians over rounds.",
        "",
        "| server | requests/s (median of its runs) | × bare route (min–max) | p50 | p99 "
        "| errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, description in SERVERS.items():
        runs = results[name]
        to_bare = pairs.get((name, "bare"), [])
        ratio = f"{median(to_bare):.2f} ({spread(to_bare)})" if to_bare else "1.00"
        errors = sum(r.errors + r.non2xx for r in runs)
        lines.append(
            f"| {description} | {num(median([r.rps for r in runs]))} | {ratio} "
            f"| {median([r.p50_ms for r in runs]):.1f} ms "
            f"| {median([r.p99_ms for r in runs]):.1f} ms | {errors} |"
        )
    cw_bare = median(pairs[("cachewatch", "bare")])
    cw_fc_runs = pairs[("cachewatch", "flask_caching")]
    cw_fc = median(cw_fc_runs)
    lines += [
        "",
        f"cachewatch against Flask-Caching, back to back: {cw_fc:.2f}× ({spread(cw_fc_runs)}).",
        "",
        f"Targets: cachewatch ≥ 1.0× Flask-Caching: {cw_fc:.2f}×, {verdict(cw_fc >= 1.0)}; "
        f"≥ 0.85× the bare route: {cw_bare:.2f}×, {verdict(cw_bare >= 0.85)}.",
    ]
    if cw_bare < 0.85:
        lines += [
            "",
            "Why short of 0.85×: a near-cache hit still does the cache layer's work (key, "
            "lookup, three metric updates, two more headers), which section 3 times "
            "in-process; that explains only part of the gap, the rest is within what this "
            "shared machine lets the bench resolve: single rounds ranged "
            f"{spread(pairs[('cachewatch', 'bare')])}. "
            "Rerun `python -m bench --only throughput` on a quiet machine to settle it.",
        ]
    return "\n".join(lines)
