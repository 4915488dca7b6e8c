"""4. Latency of a hit at 10, 100 and 500 concurrent connections, for two gunicorn set-ups.

wrk keeps every connection busy (a closed loop), so by Little's law the mean
latency is connections / throughput: a p99 under 50 ms at 500 connections
needs at least 10,000 responses per second. Each round runs every set-up at
every level in turn.
"""

from __future__ import annotations

from typing import Any

from bench import wrk
from bench.context import PAYLOAD_PATH, Context, get
from bench.servers import DEFAULT, describe
from bench.stats import median, num, verdict

LEVELS = (10, 100, 500)
TARGET_P99_MS = 50.0

#: name: (workers, threads)
SETUPS = {"sync": (2, 1), "gthread": (2, 4), "gthread8": (2, 8)}


def _text(name: str) -> str:
    workers, threads = SETUPS[name]
    default = " (the default)" if (workers, threads) == (DEFAULT.workers, DEFAULT.threads) else ""
    return describe(workers, threads) + default


def run(ctx: Context) -> str:
    rounds = ctx.rounds(full=3, quick=1)
    seconds = ctx.seconds(full=6, quick=1)
    servers: dict[str, Any] = {}
    results: dict[tuple[str, int], list[wrk.WrkResult]] = {}
    try:
        for name, (workers, threads) in SETUPS.items():
            servers[name] = ctx.cachewatch(workers=workers, threads=threads)
            for _ in range(8):
                get(servers[name].port, PAYLOAD_PATH)
        for r in range(rounds):
            for level in LEVELS:
                for name, server in servers.items():
                    result = wrk.run(
                        server.url, [PAYLOAD_PATH], level, seconds, threads=2, timeout_s=10
                    )
                    results.setdefault((name, level), []).append(result)
            ctx.note(f"concurrency: round {r + 1}/{rounds} done")
    finally:
        for server in servers.values():
            server.cleanup()
    return _render(rounds, seconds, results)


def _render(
    rounds: int, seconds: float, results: dict[tuple[str, int], list[wrk.WrkResult]]
) -> str:
    lines = [
        f"`wrk -t2 -cN -d{seconds:g}s --timeout 10s` on `{PAYLOAD_PATH}` (a hit), "
        f"{rounds} rounds; medians over rounds.",
        "",
        "| gunicorn | connections | requests/s | p50 | p99 | max | errors | "
        "mean latency by Little's law |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in SETUPS:
        text = _text(name)
        for level in LEVELS:
            runs = results[(name, level)]
            rps = median([r.rps for r in runs])
            errors = sum(r.errors + r.non2xx for r in runs)
            lines.append(
                f"| {text} | {level} | {num(rps)} | {median([r.p50_ms for r in runs]):.1f} ms "
                f"| {median([r.p99_ms for r in runs]):.1f} ms "
                f"| {median([r.max_ms for r in runs]):.0f} ms | {errors} "
                f"| {level / rps * 1000 if rps else float('nan'):.1f} ms |"
            )
    best = min(SETUPS, key=lambda n: median([r.p99_ms for r in results[(n, 500)]]))
    p99 = median([r.p99_ms for r in results[(best, 500)]])
    fastest = max(median([r.rps for r in results[(n, 500)]]) for n in SETUPS)
    lines += [
        "",
        f"Target hit p99 ≤ {TARGET_P99_MS:g} ms at 500 connections: at best {p99:.1f} ms "
        f"({_text(best)}), {verdict(p99 <= TARGET_P99_MS)}. It cannot be met on this machine: "
        f"with every one of 500 connections always waiting, the mean latency is 500 / "
        f"throughput, and the fastest set-up served {num(fastest)} responses per second, a "
        f"mean of {500 / fastest * 1000:.0f} ms; a p99 of 50 ms needs more than "
        f"{500 / (TARGET_P99_MS / 1000):,.0f} per second, from two shared cores that also run "
        "wrk and Redis. More threads or workers do not add cores; the backlog (2,048) only "
        "decides how long a connection may wait, not how fast the queue drains.",
    ]
    return "\n".join(lines)
