"""docs/benchmarks.md: the machine, the versions, the command, the date, then every section.

text = render(environment(argv), {"rollout": "...markdown..."}, mode="full")
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import re
import sqlite3
import subprocess
import sys
from collections.abc import Mapping

from bench.sections import SECTIONS

PACKAGES = (
    "Flask",
    "Werkzeug",
    "gunicorn",
    "redis",
    "prometheus_client",
    "Flask-Caching",
    "orjson",
    "SQLAlchemy",
)


def _run(*argv: str) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    return (out.stdout or out.stderr).strip()


def _cpu() -> str:
    try:
        text = open("/proc/cpuinfo").read()  # noqa: SIM115 - read once
    except OSError:
        return platform.processor() or "?"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return found.group(1) if found else "?"


def _memory_gib() -> str:
    try:
        for line in open("/proc/meminfo"):  # noqa: SIM115
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "?"


def environment(argv: list[str]) -> dict[str, str]:
    """What the numbers were measured on and with."""
    redis_version = re.search(r"v=(\S+)", _run("redis-server", "--version"))
    wrk_version = _run("wrk", "--version").splitlines()
    commit = _run("git", "rev-parse", "--short", "HEAD")
    dirty = _run("git", "status", "--porcelain", "--untracked-files=no")
    return {
        "command": " ".join(["python -m bench", *argv]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu()}, {os.cpu_count()} CPUs, {_memory_gib()} RAM, "
        f"Linux {platform.release()} ({platform.machine()})",
        "load": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
        "python": platform.python_version(),
        "packages": ", ".join(f"{p} {importlib.metadata.version(p)}" for p in PACKAGES),
        "servers": f"redis-server {redis_version.group(1) if redis_version else '?'}, "
        f"SQLite {sqlite3.sqlite_version}, "
        f"{wrk_version[0].split(' Copyright')[0] if wrk_version else 'wrk ?'}",
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "executable": sys.executable,
    }


def render(env: Mapping[str, str], bodies: Mapping[str, str], mode: str, load_end: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`) from a real run; do not edit by hand.",
        "",
        f"- Command: `{env['command']}` ({mode} mode)",
        f"- Date: {env['date']}",
        f"- Machine: {env['machine']}; load average {env['load']} at the start, "
        f"{load_end} at the end (the machine was shared)",
        f"- Python {env['python']}: {env['packages']}",
        f"- Servers: {env['servers']}",
        f"- Code: commit {env['commit']}",
        "",
        "Method: servers start on free loopback ports; the load generator is wrk, bounded in "
        "time; timings are medians of several runs; every comparison is a ratio of runs "
        "interleaved in one session (never numbers from different runs), reported as the "
        "median of its rounds with the spread where it matters.",
        "",
    ]
    for name, title in SECTIONS.items():
        lines += [f"## {title}", ""]
        body = bodies.get(name)
        lines += [body if body is not None else "_Not run in this invocation._", ""]
    lines += [NOTES]
    return "\n".join(lines).rstrip() + "\n"


NOTES = """## Decisions behind these numbers

**The near cache** (`service/near_cache.py`, `service/tracking.py`). One Redis round trip
per hit costs more than a quarter of what the bare route costs, so the hottest entries are
kept in each worker's memory (`CACHE_NEAR_SIZE` entries, least recently used out first;
default 1,024, 0 turns it off) and counted as hits with `tier="local"`. Redis keeps it
correct with server-assisted client-side caching: each worker holds one RESP3 connection
with `CLIENT TRACKING ON BCAST PREFIX cachewatch:v1:<endpoint>:`, so every write, delete,
expiry or eviction of a cached key, from any worker or tool (admin DELETE, another
worker's early refresh, `FLUSHALL`), is announced and the key dropped here.

- An invalidation that has reached the worker's socket is never ignored: a near-cache
  lookup first checks that no byte is waiting on the tracking socket and that the
  listener is not halfway through applying one; otherwise it asks Redis.
- A value read from Redis is kept only if no invalidation of its key (and no flush)
  arrived between the GET and the store, so a value Redis already replaced never lands.
- The logical TTL still applies: a near-cache entry past it is an `expired` miss.
- **Redis down**: the near cache is flushed as soon as the tracking connection drops (or
  a PING on it goes unanswered for two seconds, as when Redis is paused) and stays off
  until tracking is back: invalidations could have been missed, so its entries can no
  longer be trusted, and requests bypass the cache as they did before (circuit breaker).
  While Redis is merely paused, entries are served until that PING times out, which is
  safe: nothing can write to a paused Redis either.
- redis-py 8.1's own client-side caching was not used: it refuses servers older than
  Redis 7.4 (Debian 12 ships 7.0), checks invalidations only on the connection it
  happens to use, deep-copies every cached reply, and would hide which tier answered.

**gunicorn**: the default is now 2 gthread workers × 8 threads (`GUNICORN_THREADS=8`,
was 1, a sync worker); section 4 measures it against sync workers and 4 threads. Sync
workers close the connection after every response, so each request pays a TCP handshake
and an accept; gthread keeps connections alive, which gives more hit throughput and a
lower median latency. A gthread worker serves at most `threads` connections at a time and
the other kept-alive connections wait for a free thread, so 8 threads let each worker
serve a moderate number of kept-alive clients at once; between 4 and 8 threads our runs
differed less than from one run to the next, and threads share one GIL, so more of them
buy no speed. The backlog stays 2,048.

**The hot path**: the request histogram is observed by a WSGI middleware
(`service/timing.py`) instead of a Flask before/after_request pair and `g` (Flask's
hook dispatch cost more than the observation); the multiprocess metric values read the
pid once per process instead of a `getpid()` per update (five per hit).
"""
