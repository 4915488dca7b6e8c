"""1. The rollout table, measured: each endpoint uncached and cached, on the default database.

Two cachewatch servers share one Redis: the deployed configuration (near cache
on) and the same with CACHE_NEAR_SIZE=0 (every hit a Redis round trip). Each
round, per endpoint: a few misses (the entry deleted from Redis first, or a
valuation never asked before), then a block of hits on each server. Every
request goes through a new loopback connection from a Python client, as a
browser's would; its time is the client's.
"""

from __future__ import annotations

import random

import redis

from bench.context import Context, get
from bench.stats import median, ms, percentile
from service.config import DEFAULT_TTL
from service.keys import cache_key
from service.seed import PROPERTY_TYPES, area_names

#: What the rollout summary promised, in its order: (miss ms, hit ms).
PROMISED = {"areas": (850, 12), "property_types": (450, 15), "valuation": (1200, 100)}


def _valuations(seed: int) -> list[tuple[str, str]]:
    """(path, cache key) of valuations, all different, from popular areas and types."""
    rng = random.Random(seed)
    areas = [slug for slug, _ in area_names()[:40]]
    types = [slug for slug, _, _ in PROPERTY_TYPES[:6]]
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(out) < 400:
        p = {
            "area": rng.choice(areas),
            "property_type": rng.choice(types),
            "bedrooms": rng.randint(1, 4),
            "size_sqm": rng.randrange(40, 160, 5),
            "listing_type": "buy",
        }
        key = cache_key("valuation", {"p": p}).key
        if key in seen:
            continue
        seen.add(key)
        query = "&".join(f"{k}={v}" for k, v in p.items())
        out.append((f"/api/property/valuation?{query}", key))
    return out


def run(ctx: Context) -> str:
    rounds = ctx.rounds(full=5, quick=1)
    misses = ctx.rounds(full=4, quick=2)
    hits = ctx.rounds(full=100, quick=20)
    near = ctx.cachewatch()
    direct = ctx.cachewatch(env={"CACHE_NEAR_SIZE": "0"})
    client = redis.Redis.from_url(ctx.redis.url)
    valuations = iter(_valuations(seed=7))
    fixed = {
        "areas": ["/api/areas/buy", "/api/areas/rent"],
        "property_types": ["/api/property-types/buy", "/api/property-types/rent"],
    }
    miss_t: dict[str, list[float]] = {n: [] for n in PROMISED}
    hit_t: dict[str, dict[str, list[list[float]]]] = {
        n: {"near": [], "redis": []} for n in PROMISED
    }
    gains: dict[str, list[float]] = {n: [] for n in PROMISED}
    wrong: list[str] = []
    try:
        for r in range(rounds):
            for name in PROMISED:
                round_misses = []
                for i in range(misses):
                    if name == "valuation":
                        path, key = next(valuations)
                    else:
                        path = fixed[name][i % 2]
                        key = _key_of(name, path)
                        client.delete(key)
                    seconds, status, _, headers = get(near.port, path)
                    if status != 200 or headers.get("X-Cache") != "MISS":
                        wrong.append(f"{path}: {status} {headers.get('X-Cache')} (wanted a MISS)")
                    round_misses.append(seconds)
                miss_t[name] += round_misses
                hot = fixed.get(name, [path])[0]
                for label, server in (("near", near), ("redis", direct)):
                    get(server.port, hot)
                    get(server.port, hot)  # fills the near cache of whichever worker
                    times = []
                    for _ in range(hits):
                        seconds, status, _, headers = get(server.port, hot)
                        if status != 200 or headers.get("X-Cache") != "HIT":
                            wrong.append(f"{hot}: {status} {headers.get('X-Cache')} (wanted a HIT)")
                        times.append(seconds)
                    hit_t[name][label].append(times)
                gains[name].append(median(round_misses) / median(hit_t[name]["near"][-1]))
            ctx.note(f"rollout: round {r + 1}/{rounds} done")
        local_hits = near.metric("cachewatch_cache_hits_total", tier="local")
    finally:
        near.cleanup()
        direct.cleanup()
    return _render(ctx, rounds, misses, hits, miss_t, hit_t, gains, wrong, local_hits)


def _key_of(name: str, path: str) -> str:
    return cache_key(name, {"listing_type": path.rsplit("/", 1)[1]}).key


def _render(
    ctx: Context,
    rounds: int,
    misses: int,
    hits: int,
    miss_t: dict[str, list[float]],
    hit_t: dict[str, dict[str, list[list[float]]]],
    gains: dict[str, list[float]],
    wrong: list[str],
    local_hits: float,
) -> str:
    def per_round(runs: list[list[float]], q: float) -> float:
        return median([percentile(run, q) for run in runs])

    lines = [
        f"{rounds} rounds; per round and endpoint {misses} misses, then {hits} hits on each "
        f"server. Database: {ctx.listings:,} listings (SQLite). Miss percentiles are over all "
        f"{rounds * misses} misses; hit percentiles are the median over rounds of each round's "
        "percentile; the gain is the median over rounds of (median miss / median hit).",
        "",
        "| endpoint | TTL | promised miss → hit | miss p50 | miss p95 | hit p50 | hit p95 "
        "| hit p50, near cache off | hit p95, near cache off | gain × (promised) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (miss_ms, hit_ms) in PROMISED.items():
        ttl = DEFAULT_TTL[name]
        ttl_text = f"{ttl // 3600} h" if ttl >= 3600 else f"{ttl // 60} min"
        near, direct = hit_t[name]["near"], hit_t[name]["redis"]
        lines.append(
            f"| {name} | {ttl_text} | {miss_ms:,} ms → {hit_ms} ms "
            f"| {ms(percentile(miss_t[name], 50))} ms | {ms(percentile(miss_t[name], 95))} ms "
            f"| {ms(per_round(near, 50), 2)} ms | {ms(per_round(near, 95), 2)} ms "
            f"| {ms(per_round(direct, 50), 2)} ms | {ms(per_round(direct, 95), 2)} ms "
            f"| {median(gains[name]):,.0f}× ({miss_ms / hit_ms:,.0f}×) |"
        )
    lines += [
        "",
        f'Hits served from the near cache during the run (tier="local"): {local_hits:,.0f}.',
    ]
    if wrong:
        lines += ["", f"**{len(wrong)} responses were not what was asked for**, e.g.: {wrong[0]}"]
    return "\n".join(lines)
