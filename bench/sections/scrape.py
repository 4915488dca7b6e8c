"""6. What a /metrics scrape costs with 4 gunicorn workers, fresh and after a million requests.

Multiprocess metrics are summed from every worker's memory-mapped files at
scrape time; the question is whether that grows with traffic. wrk sends hits
over several keys of every endpoint, in chunks, until a million requests or
the time budget, whichever comes first; the count reached is reported.
"""

from __future__ import annotations

import time
from typing import Any

from bench import wrk
from bench.context import Context, get
from bench.servers import DEFAULT, describe
from bench.stats import num, percentile

WORKERS = 4
TARGET_REQUESTS = 1_000_000
PATHS = [
    "/api/areas/buy",
    "/api/areas/rent",
    "/api/property-types/buy",
    "/api/property-types/rent",
    "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=75",
    "/api/property/valuation?area=northgate&property_type=terraced&bedrooms=3&size_sqm=95",
    "/api/property/valuation?area=southfield&property_type=detached&bedrooms=4&size_sqm=140",
    "/api/property/valuation?area=eastbury&property_type=flat&bedrooms=1&size_sqm=45"
    "&listing_type=rent",
]


def _scrapes(port: int, count: int) -> dict[str, Any]:
    times, sizes = [], []
    for _ in range(count):
        seconds, status, body, _ = get(port, "/metrics")
        assert status == 200, status
        times.append(seconds)
        sizes.append(len(body))
    lines = [x for x in body.decode().splitlines() if x and not x.startswith("#")]
    return {"times": times, "bytes": sizes[-1], "samples": len(lines)}


def run(ctx: Context) -> str:
    budget = ctx.seconds(full=540, quick=3)
    chunk = ctx.seconds(full=60, quick=3)
    scrapes = ctx.rounds(full=20, quick=3)
    server = ctx.cachewatch(workers=WORKERS)
    sent, errors, spent = 0, 0, 0.0
    try:
        for path in PATHS:
            for _ in range(3):
                get(server.port, path)
        fresh = _scrapes(server.port, scrapes)
        start = time.monotonic()
        while sent < TARGET_REQUESTS and spent < budget:
            result = wrk.run(server.url, PATHS, 20, min(chunk, budget - spent))
            sent += result.requests
            errors += result.errors + result.non2xx
            spent = time.monotonic() - start
            ctx.note(f"scrape: {sent:,} requests in {spent:.0f} s")
        counted = server.metric("cachewatch_http_request_duration_seconds_count")
        after = _scrapes(server.port, scrapes)
    finally:
        server.cleanup()
    return _render(fresh, after, sent, errors, spent, counted, scrapes)


def _render(
    fresh: dict[str, Any],
    after: dict[str, Any],
    sent: int,
    errors: int,
    spent: float,
    counted: float,
    scrapes: int,
) -> str:
    def row(label: str, s: dict[str, Any]) -> str:
        t = s["times"]
        return (
            f"| {label} | {percentile(t, 50) * 1000:.1f} ms | {percentile(t, 95) * 1000:.1f} ms "
            f"| {max(t) * 1000:.1f} ms | {s['bytes']:,} | {s['samples']:,} |"
        )

    reached = "reached" if sent >= TARGET_REQUESTS else "**not reached** in the time budget"
    return "\n".join(
        [
            f"gunicorn: {describe(WORKERS, DEFAULT.threads)}; {scrapes} sequential scrapes "
            "each time, timed by the client (new connection each).",
            "",
            f"Traffic: wrk sent {num(sent)} requests in {spent:.0f} s over {len(PATHS)} cached "
            f"URLs ({num(sent / spent if spent else 0)} per second, {errors} errors); one "
            f"million was {reached}. The service counted {num(counted)} requests in "
            "`cachewatch_http_request_duration_seconds_count` (traffic plus scrapes and warm-up).",
            "",
            "| /metrics | p50 | p95 | max | bytes | samples |",
            "|---|---|---|---|---|---|",
            row("fresh (after warm-up)", fresh),
            row(f"after {num(sent)} requests", after),
        ]
    )
