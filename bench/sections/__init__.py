"""The benchmark sections, in the order of docs/benchmarks.md.

Each module has `run(ctx) -> str`: the section's markdown body, from a real run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bench.context import Context

#: name (for --only): title
SECTIONS = {
    "rollout": "1. The rollout table, measured",
    "throughput": "2. Throughput of a cache hit against the alternatives",
    "overhead": "3. Overhead of the cache layer and its metrics, per request",
    "concurrency": "4. Latency at concurrency",
    "degraded": "5. Degraded modes: Redis down, Redis paused, a stampede",
    "scrape": "6. Scrape cost",
    "memory": "7. Redis memory per entry",
}

#: The sections cheap enough for the smoke test's quick run.
CHEAP = ("overhead", "memory", "throughput")


def runner(name: str) -> Callable[[Context], str]:
    module = importlib.import_module(f"bench.sections.{name}")
    run: Callable[[Context], str] = module.run
    return run
