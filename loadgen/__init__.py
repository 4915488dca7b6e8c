"""Realistic traffic for the cachewatch service: `cachewatch load`, or from Python:

    import loadgen
    summary = loadgen.run("http://127.0.0.1:8000", rate=20, duration=10, keys=30, seed=1)
    summary.hit_ratio, summary.latency("HIT")

See loadgen.traffic for what is sent and docs/stack.md for the command.
"""

from __future__ import annotations

from loadgen.catalog import Catalog, ServiceUnavailable
from loadgen.guard import BadTarget, RemoteTarget
from loadgen.runner import run
from loadgen.summary import Result, Summary
from loadgen.traffic import DEFAULT_MIX, Mix, Traffic

__all__ = [
    "DEFAULT_MIX",
    "BadTarget",
    "Catalog",
    "Mix",
    "RemoteTarget",
    "Result",
    "ServiceUnavailable",
    "Summary",
    "Traffic",
    "run",
]
