"""The cache-rollout dashboard (uid `cachewatch-rollout`): is the cache working, and is it healthy?

    board, panel_ids = rollout.build(thresholds)
    panel_ids["hit_ratio"]   # the panel an alert rule links to

Ratios and latency quantiles read the recording rules of docs/metrics.md (summed over
instances by Prometheus); panels that break down by instance read raw metrics filtered
by the `instance` variable. Every rate uses `$__rate_interval`.
"""

from __future__ import annotations

from typing import Any

from grafana.model import (
    DATASOURCE_VAR,
    Grid,
    Json,
    Target,
    bargauge,
    dashboard,
    dashboard_link,
    query_var,
    stat,
    state_timeline,
    table,
    target_line,
    timeseries,
    value_map,
)

UID = "cachewatch-rollout"
TITLE = "cachewatch: cache rollout"

EP = 'endpoint=~"$endpoint"'
RAW = 'job="cachewatch", instance=~"$instance"'
RAW_EP = f"{RAW}, {EP}"
RATE = "[$__rate_interval]"
LATENCY = "endpoint_cache:cachewatch_http_request_duration_seconds"
UP_DOWN = value_map({"0": ("DOWN", "red"), "1": ("UP", "green")})


def variables() -> list[Json]:
    return [
        DATASOURCE_VAR,
        query_var("endpoint", "Endpoint", "label_values(cachewatch_cache_hits_total, endpoint)"),
        query_var("instance", "Instance", 'label_values(up{job="cachewatch"}, instance)'),
    ]


def _headline(grid: Grid, target: float, ids: dict[str, int]) -> None:
    grid.row("Is the rollout meeting its target?")
    grid.add(
        stat(
            "Hit ratio, last 24 h",
            f"Hits / (hits + misses) over the last 24 hours, over all endpoints and per "
            f"endpoint. Green at or above the {target:.0%} target, red below. Bypassed "
            "requests are not lookups: see 'Served from cache'.",
            "percentunit",
            [
                Target("job:cachewatch_cache_hit_ratio:ratio_rate24h", "all endpoints", True),
                Target(
                    f"endpoint:cachewatch_cache_hit_ratio:ratio_rate24h{{{EP}}}",
                    "{{endpoint}}",
                    True,
                ),
            ],
            thresholds=target_line(target),
            min_=0,
            max_=1,
        ),
        w=8,
        h=5,
    )
    grid.add(
        stat(
            "Served from cache, last 24 h",
            "Hits / all requests (hits + misses + bypasses) over 24 hours, per endpoint: "
            "the share of requests the cache really answered. Below the hit ratio when "
            "requests bypass the cache (disabled, circuit open, Redis errors).",
            "percentunit",
            [
                Target(
                    f"endpoint:cachewatch_served_from_cache:ratio_rate24h{{{EP}}}",
                    "{{endpoint}}",
                    True,
                )
            ],
            thresholds=target_line(target),
            min_=0,
            max_=1,
        ),
        w=6,
        h=5,
    )
    grid.add(
        bargauge(
            "Database load reduction, last 24 h",
            "1 − database computations / requests over 24 hours: how much database work "
            "the cache saved. 0 % means every request reached the database; the closer to "
            "100 %, the better.",
            "percentunit",
            [
                Target("job:cachewatch_db_load_reduction:ratio_rate24h", "all endpoints", True),
                Target(
                    f"endpoint:cachewatch_db_load_reduction:ratio_rate24h{{{EP}}}",
                    "{{endpoint}}",
                    True,
                ),
            ],
            thresholds=target_line(target, below="orange"),
            min_=0,
            max_=1,
        ),
        w=6,
        h=5,
    )
    ids["redis_up"] = grid.add(
        stat(
            "Redis up",
            "Whether Redis answered the service's INFO at the last scrape, per node (the "
            "worst answer over the selected instances). DOWN: every request bypasses the "
            "cache and reaches the database.",
            "bool",
            [Target(f"min by (node) (cachewatch_redis_up{{{RAW}}})", "{{node}}", True)],
            thresholds=target_line(1),
            mappings=UP_DOWN,
        ),
        w=4,
        h=5,
    )["id"]


def _ratios(grid: Grid, target: float, ids: dict[str, int]) -> None:
    grid.row("Hit ratio, cache share and database load (5 m windows)")
    ids["hit_ratio"] = grid.add(
        timeseries(
            "Hit ratio per endpoint",
            f"Hits / lookups over sliding 5-minute windows, per endpoint and over all. The "
            f"dashed line is the {target:.0%} target: a line staying under it means the TTL "
            "is too short or the key space too wide. Gaps mean no lookups at all.",
            "percentunit",
            [
                Target(f"endpoint:cachewatch_cache_hit_ratio:ratio_rate5m{{{EP}}}", "{{endpoint}}"),
                Target("job:cachewatch_cache_hit_ratio:ratio_rate5m", "all endpoints"),
            ],
            line_at=target,
            min_=0,
            max_=1,
        ),
        w=12,
        h=8,
    )["id"]
    grid.add(
        timeseries(
            "Share served from cache",
            "Hits / all requests over 5-minute windows. It drops below the hit ratio "
            "whenever requests bypass the cache; the dashed line is the target.",
            "percentunit",
            [Target(f"endpoint:cachewatch_served_from_cache:ratio_rate5m{{{EP}}}", "{{endpoint}}")],
            line_at=target,
            min_=0,
            max_=1,
        ),
        w=6,
        h=8,
    )
    grid.add(
        timeseries(
            "Database load reduction",
            "1 − database computations / requests over 5-minute windows: the share of "
            "database work the cache removed. Falls with misses, bypasses and early "
            "(XFetch) refreshes.",
            "percentunit",
            [
                Target(
                    f"endpoint:cachewatch_db_load_reduction:ratio_rate5m{{{EP}}}", "{{endpoint}}"
                ),
                Target("job:cachewatch_db_load_reduction:ratio_rate5m", "all endpoints"),
            ],
            min_=0,
            max_=1,
        ),
        w=6,
        h=8,
    )


def _results(grid: Grid) -> None:
    grid.row("Requests by result")
    grid.add(
        timeseries(
            "Requests by result",
            "Requests per second to the cached endpoints, stacked by what the cache did: "
            "hit (by tier: redis, or local near cache), miss (cold: never cached; expired: "
            "its TTL ran out) or bypass (disabled, circuit_open, redis_error, uncacheable). "
            "Any bypass band means the cache is not in the path.",
            "reqps",
            [
                Target(
                    f"sum by (tier) (rate(cachewatch_cache_hits_total{{{RAW_EP}}}{RATE}))",
                    "hit ({{tier}})",
                ),
                Target(
                    f"sum by (reason) (rate(cachewatch_cache_misses_total{{{RAW_EP}}}{RATE}))",
                    "miss ({{reason}})",
                ),
                Target(
                    f"sum by (reason) (rate(cachewatch_cache_bypass_total{{{RAW_EP}}}{RATE}))",
                    "bypass ({{reason}})",
                ),
            ],
            stacked=True,
            min_=0,
        ),
        w=24,
        h=8,
    )


def _latency(grid: Grid, limit: float, ids: dict[str, int], alerted: str) -> None:
    grid.row(f"Latency: hits vs misses ({limit * 1000:.0f} ms line)")
    for q in ("p50", "p95", "p99"):
        panel = grid.add(
            timeseries(
                f"Latency {q}: hits vs misses",
                f"The {q} of whole-request time over 5-minute windows, per endpoint, for "
                f"hits and misses. Hits should sit well under the dashed {limit * 1000:.0f} ms "
                "line; misses show what the database costs, so the gap is what the cache saves.",
                "s",
                [
                    Target(
                        f'{LATENCY}:{q}_rate5m{{{EP}, cache=~"hit|miss"}}',
                        "{{endpoint}} {{cache}}",
                    )
                ],
                line_at=limit,
                line_below="green",
                line_above="red",
                min_=0,
            ),
            w=8,
            h=8,
        )
        if q == alerted:
            ids["cached_latency"] = panel["id"]


def _errors(grid: Grid, ids: dict[str, int]) -> None:
    grid.row("Errors and the circuit breaker")
    ids["cache_errors"] = grid.add(
        timeseries(
            "Errors per instance",
            "Failed cache operations per second, per instance and operation (each cost "
            "that request the cache, never the response), and database failures per "
            "instance. Flat zero is healthy; a series appears at its first error.",
            "ops",
            [
                Target(
                    "sum by (instance, operation) "
                    f"(rate(cachewatch_cache_errors_total{{{RAW_EP}}}{RATE}))",
                    "{{instance}} cache {{operation}}",
                ),
                Target(
                    f"sum by (instance) (rate(cachewatch_backend_errors_total{{{RAW_EP}}}{RATE}))",
                    "{{instance}} database",
                ),
            ],
            min_=0,
        ),
        w=10,
        h=8,
    )["id"]
    grid.add(
        state_timeline(
            "Circuit breaker per instance",
            "Red while the circuit breaker of any worker of that instance is open: its "
            "requests bypass Redis (reason circuit_open) until a probe succeeds.",
            [
                Target(
                    f"max by (instance) (cachewatch_cache_circuit_open{{{RAW}}})",
                    "{{instance}}",
                )
            ],
            value_map({"0": ("closed", "green"), "1": ("open", "red")}),
        ),
        w=8,
        h=8,
    )
    grid.add(
        stat(
            "Service instances up",
            "Whether Prometheus could scrape each selected instance of the service. DOWN: "
            "that instance's metrics (and its requests) are missing from every panel.",
            "bool",
            [Target(f"up{{{RAW}}}", "{{instance}}", True)],
            thresholds=target_line(1),
            mappings=UP_DOWN,
        ),
        w=6,
        h=8,
    )


def _redis(grid: Grid) -> None:
    grid.row("Redis")
    grid.add(
        timeseries(
            "Redis memory: used vs max",
            "used_memory and maxmemory per Redis node, as the selected instances read "
            "them. A max of 0 means no limit; used close to max means evictions.",
            "bytes",
            [
                Target(
                    f"max by (node) (cachewatch_redis_memory_used_bytes{{{RAW}}})", "used {{node}}"
                ),
                Target(
                    f"max by (node) (cachewatch_redis_memory_max_bytes{{{RAW}}})", "max {{node}}"
                ),
            ],
            min_=0,
        ),
        w=8,
        h=8,
    )
    grid.add(
        timeseries(
            "Evictions and expirations",
            "Keys per second that Redis evicted (memory pressure: should be 0) and that "
            "expired (entries past their physical TTL: normal).",
            "suffix: keys/s",
            [
                Target(
                    f"max by (node) (rate(cachewatch_redis_evicted_keys_total{{{RAW}}}{RATE}))",
                    "evicted {{node}}",
                ),
                Target(
                    f"max by (node) (rate(cachewatch_redis_expired_keys_total{{{RAW}}}{RATE}))",
                    "expired {{node}}",
                ),
            ],
            min_=0,
        ),
        w=8,
        h=8,
    )
    grid.add(
        timeseries(
            "Keys",
            "Keys in the service's Redis database, per node: cache entries, plus locks "
            "and any sampling stream. It grows with the key space and shrinks as entries "
            "expire.",
            "short",
            [Target(f"max by (node) (cachewatch_redis_keys{{{RAW}}})", "{{node}}")],
            min_=0,
        ),
        w=8,
        h=8,
    )


def _alerts(grid: Grid) -> None:
    grid.row("Alerts")
    grid.add(
        table(
            "Firing alerts",
            "Prometheus alerts firing now (from monitoring/rules), one row per alert "
            "with its labels. Empty is healthy. Grafana-managed alerts are listed under "
            "Alerting > Alert rules, and both reach Alertmanager.",
            "short",
            [Target('ALERTS{alertstate="firing"}', "{{alertname}}", True, "table")],
        ),
        w=24,
        h=6,
    )


def build(thresholds: dict[str, Any]) -> tuple[Json, dict[str, int]]:
    """The dashboard, and the ids of the panels alert rules link to."""
    target = float(thresholds["hit_ratio"]["warning"])
    latency = thresholds["cached_latency"]
    ids: dict[str, int] = {}
    grid = Grid()
    _headline(grid, target, ids)
    _ratios(grid, target, ids)
    _results(grid)
    _latency(grid, float(latency["max_seconds"]), ids, latency["quantile"])
    _errors(grid, ids)
    _redis(grid)
    _alerts(grid)
    board = dashboard(
        UID,
        TITLE,
        "Is the cache rollout working (hit ratio, database load, latency) and is the "
        "cache healthy (errors, circuit breaker, Redis)? See docs/grafana.md.",
        grid,
        variables(),
        time_from="now-24h",
        links=[dashboard_link("TTL review", "cachewatch-ttl-review")],
    )
    return board, ids
