"""The TTL review dashboard (uid `cachewatch-ttl-review`): is each endpoint's TTL right?

    board = ttl_review.build(thresholds)

Defaults to the last 7 days. The range-wide panels are instant queries over `$__range`
(the whole selected range); the panels over time use `$__rate_interval`. Read with
docs/grafana.md ("TTL review").
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
    heatmap,
    query_var,
    stat,
    target_line,
    timeseries,
)

UID = "cachewatch-ttl-review"
TITLE = "cachewatch: TTL review"

SEL = 'job="cachewatch", endpoint=~"$endpoint"'
RATE = "[$__rate_interval]"
RANGE = "[$__range]"
HITS = "cachewatch_cache_hits_total"
MISSES = "cachewatch_cache_misses_total"
AGE = "cachewatch_cache_hit_age_seconds_bucket"
SIZE = "cachewatch_cache_entry_size_bytes"
TTL = f"max by (endpoint) (cachewatch_cache_ttl_seconds{{{SEL}}})"
REDIS = 'job="cachewatch"'


def variables() -> list[Json]:
    return [
        DATASOURCE_VAR,
        query_var("endpoint", "Endpoint", f"label_values({HITS}, endpoint)"),
    ]


def _verdicts(grid: Grid, target: float) -> None:
    grid.row("Over the selected range (default: 7 days)")
    grid.add(
        bargauge(
            "Hit ratio per endpoint",
            f"Hits / (hits + misses) over the whole selected range, per endpoint. Under "
            f"the {target:.0%} target: see below whether misses are expired entries (a "
            "longer TTL helps) or cold keys (a longer TTL does not).",
            "percentunit",
            [
                Target(
                    f"sum by (endpoint) (increase({HITS}{{{SEL}}}{RANGE}))\n"
                    f"/\n(sum by (endpoint) (\n"
                    f"  increase({HITS}{{{SEL}}}{RANGE}) or increase({MISSES}{{{SEL}}}{RANGE})\n"
                    f") > 0)",
                    "{{endpoint}}",
                    True,
                )
            ],
            thresholds=target_line(target),
            min_=0,
            max_=1,
        ),
        w=8,
        h=6,
    )
    grid.add(
        stat(
            "Configured TTL",
            "The logical TTL each endpoint's entries live for, as the service reports it "
            "(CACHE_TTL_<ENDPOINT>). Compare it with the hit ages beside and below.",
            "s",
            [Target(TTL, "{{endpoint}}", True)],
        ),
        w=4,
        h=6,
    )
    grid.add(
        bargauge(
            "Misses by reason",
            "The share of each endpoint's misses that were cold (never cached, or gone "
            "past the grace period) and expired (TTL ran out recently). Mostly expired: "
            "the TTL is shorter than the re-request interval, lengthen it if the data "
            "allows. Mostly cold: the key space is wide; a TTL change will not help much.",
            "percentunit",
            [
                Target(
                    f"sum by (endpoint, reason) (increase({MISSES}{{{SEL}}}{RANGE}))\n"
                    f"/ on (endpoint) group_left ()\n"
                    f"(sum by (endpoint) (increase({MISSES}{{{SEL}}}{RANGE})) > 0)",
                    "{{endpoint}} {{reason}}",
                    True,
                )
            ],
            thresholds=target_line(0.5, below="blue", above="orange"),
            min_=0,
            max_=1,
        ),
        w=6,
        h=6,
    )
    grid.add(
        bargauge(
            "Hit age p90 as a share of the TTL",
            "How far into its TTL the 90th-percentile hit came. Near 100 %: entries are "
            "still popular when they expire, so a longer TTL would turn expired misses "
            "into hits. Far below: entries are hit young, a shorter TTL would cost little.",
            "percentunit",
            [
                Target(
                    f"histogram_quantile(0.9, sum by (endpoint, le) "
                    f"(increase({AGE}{{{SEL}}}{RANGE})))\n/ on (endpoint)\n({TTL} > 0)",
                    "{{endpoint}}",
                    True,
                )
            ],
            thresholds=target_line(0.8, below="green", above="orange"),
            min_=0,
        ),
        w=6,
        h=6,
    )


def _over_time(grid: Grid, target: float) -> None:
    grid.row("Over time")
    grid.add(
        timeseries(
            "Hit ratio per endpoint (1 h windows)",
            f"Hits / lookups over sliding 1-hour windows. The dashed line is the "
            f"{target:.0%} target. A daily dip that recovers is the key space refilling "
            "after quiet hours; a step after a TTL change is that change's effect.",
            "percentunit",
            [
                Target(
                    'endpoint:cachewatch_cache_hit_ratio:ratio_rate1h{endpoint=~"$endpoint"}',
                    "{{endpoint}}",
                )
            ],
            line_at=target,
            min_=0,
            max_=1,
        ),
        w=8,
        h=8,
    )
    grid.add(
        timeseries(
            "Misses by reason over time",
            "Misses per second, per endpoint, stacked: cold (never cached, or past grace) "
            "and expired (logical TTL ran out). Expired misses in waves one TTL apart mean "
            "popular entries expire together.",
            "reqps",
            [
                Target(
                    f"sum by (endpoint, reason) (rate({MISSES}{{{SEL}}}{RATE}))",
                    "{{endpoint}} {{reason}}",
                )
            ],
            stacked=True,
            min_=0,
        ),
        w=8,
        h=8,
    )
    grid.add(
        timeseries(
            "Lookups per endpoint (1 h windows)",
            "Hits + misses per second: the traffic behind each ratio. Ratios of endpoints "
            "with little traffic are noisy, and their alerts stay quiet below the floor.",
            "reqps",
            [
                Target(
                    'endpoint:cachewatch_cache_lookups:rate1h{endpoint=~"$endpoint"}',
                    "{{endpoint}}",
                )
            ],
            min_=0,
        ),
        w=8,
        h=8,
    )


def _hit_age(grid: Grid) -> None:
    grid.row("Hit age against the TTL")
    grid.add(
        heatmap(
            "Hit age: $endpoint",
            "How old entries were when they were hit, over time (one heatmap per "
            "endpoint). Colour is the number of hits in each age bucket. Hits piling up "
            "just under the TTL mean entries die while still popular.",
            "s",
            [
                Target(
                    f"sum by (le) (increase({AGE}{{{SEL}}}{RATE}))",
                    "{{le}}",
                    format="heatmap",
                )
            ],
            repeat="endpoint",
            repeatDirection="h",
            maxPerRow=3,
        ),
        w=8,
        h=8,
    )
    grid.add(
        timeseries(
            "Hit age quantiles against the TTL",
            "Median and 90th-percentile age of hit entries per endpoint, with each "
            "endpoint's TTL as a flat line. Quantiles near their TTL line: lengthen the "
            "TTL; far below it: the TTL could be shorter without losing hits.",
            "s",
            [
                Target(
                    f"histogram_quantile(0.5, sum by (endpoint, le) (rate({AGE}{{{SEL}}}{RATE})))",
                    "{{endpoint}} p50",
                ),
                Target(
                    f"histogram_quantile(0.9, sum by (endpoint, le) (rate({AGE}{{{SEL}}}{RATE})))",
                    "{{endpoint}} p90",
                ),
                Target(TTL, "{{endpoint}} TTL"),
            ],
            min_=0,
        ),
        w=24,
        h=8,
    )


def _memory(grid: Grid) -> None:
    grid.row("Entry sizes and memory")
    grid.add(
        timeseries(
            "Entry size per endpoint",
            "Median, 95th percentile and mean size of the entries stored (on misses), per "
            "endpoint. Size × keys is what a longer TTL costs in memory.",
            "bytes",
            [
                Target(
                    f"histogram_quantile(0.5, sum by (endpoint, le) "
                    f"(rate({SIZE}_bucket{{{SEL}}}{RATE})))",
                    "{{endpoint}} p50",
                ),
                Target(
                    f"histogram_quantile(0.95, sum by (endpoint, le) "
                    f"(rate({SIZE}_bucket{{{SEL}}}{RATE})))",
                    "{{endpoint}} p95",
                ),
                Target(
                    f"sum by (endpoint) (rate({SIZE}_sum{{{SEL}}}{RATE}))\n/\n"
                    f"(sum by (endpoint) (rate({SIZE}_count{{{SEL}}}{RATE})) > 0)",
                    "{{endpoint}} mean",
                ),
            ],
            min_=0,
        ),
        w=6,
        h=8,
    )
    grid.add(
        timeseries(
            "Redis memory: used vs max",
            "used_memory and maxmemory per Redis node (max 0: no limit). A longer TTL keeps "
            "more entries: watch this approach max.",
            "bytes",
            [
                Target(
                    f"max by (node) (cachewatch_redis_memory_used_bytes{{{REDIS}}})",
                    "used {{node}}",
                ),
                Target(
                    f"max by (node) (cachewatch_redis_memory_max_bytes{{{REDIS}}})", "max {{node}}"
                ),
            ],
            min_=0,
        ),
        w=6,
        h=8,
    )
    grid.add(
        timeseries(
            "Memory per key",
            "used_memory / keys per Redis node: the average cost of one key, Redis's "
            "overhead included. Multiply by the extra keys a longer TTL keeps.",
            "bytes",
            [
                Target(
                    f"max by (node) (cachewatch_redis_memory_used_bytes{{{REDIS}}})\n/\n"
                    f"(max by (node) (cachewatch_redis_keys{{{REDIS}}}) > 0)",
                    "{{node}}",
                )
            ],
            min_=0,
        ),
        w=6,
        h=8,
    )
    grid.add(
        timeseries(
            "Evictions and expirations",
            "Keys per second evicted (memory full: a TTL too long for the memory) and "
            "expired (normal end of life).",
            "suffix: keys/s",
            [
                Target(
                    f"max by (node) (rate(cachewatch_redis_evicted_keys_total{{{REDIS}}}{RATE}))",
                    "evicted {{node}}",
                ),
                Target(
                    f"max by (node) (rate(cachewatch_redis_expired_keys_total{{{REDIS}}}{RATE}))",
                    "expired {{node}}",
                ),
            ],
            min_=0,
        ),
        w=6,
        h=8,
    )


def build(thresholds: dict[str, Any]) -> Json:
    """The dashboard document."""
    target = float(thresholds["hit_ratio"]["warning"])
    grid = Grid()
    _verdicts(grid, target)
    _over_time(grid, target)
    _hit_age(grid)
    _memory(grid)
    return dashboard(
        UID,
        TITLE,
        "Is each endpoint's TTL right? Hit ratio, why misses happen, how old hit entries "
        "are against their TTL, and what entries cost in memory. See docs/grafana.md.",
        grid,
        variables(),
        time_from="now-7d",
        links=[dashboard_link("Cache rollout", "cachewatch-rollout")],
    )
