"""In-process timings of WSGI apps, run in a child process set up as a gunicorn worker is.

    python -m bench.inproc overhead --redis-url ... --database-url ... --rounds 9 --calls 3000
    python -m bench.inproc degraded --redis-url ... --database-url ... --rounds 5 --calls 2000

Prints one JSON object. PROMETHEUS_MULTIPROC_DIR is set before prometheus_client
is imported (by bench.sections.overhead, which starts this), so metrics cost what
they cost under gunicorn: memory-mapped files. Variants take turns call by call,
round after round, so a slow moment of the machine hits them all.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

Call = Callable[[], bytes]


def wsgi_call(app: Any, path: str) -> Call:
    """A function that sends one GET `path` through `app` as a WSGI server would."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, base_url="http://127.0.0.1:8000").get_environ()
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(s)

    def call() -> bytes:
        result = app(environ.copy(), start_response)
        try:
            return b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return call


def each_call(fn: Callable[[], Any], calls: int) -> list[float]:
    """The wall seconds of each of `calls` calls."""
    out = []
    clock = time.perf_counter
    for _ in range(calls):
        start = clock()
        fn()
        out.append(clock() - start)
    return out


def interleave(
    variants: dict[str, Callable[[], Any]], rounds: int, calls: int
) -> dict[str, dict[str, list[float]]]:
    """Per variant and round, the median and the mean seconds of one call.

    The variants take turns call by call (the first of each turn rotating),
    so a slow moment of the shared machine lands on all of them; the median
    of single calls then leaves out the calls it interrupted.
    """
    names = list(variants)
    fns = [variants[n] for n in names]
    clock = time.perf_counter
    out: dict[str, dict[str, list[float]]] = {n: {"median": [], "mean": []} for n in names}
    for _ in range(rounds):
        times: list[list[float]] = [[] for _ in names]
        for i in range(calls):
            k = i % len(names)
            for j in list(range(k, len(names))) + list(range(k)):
                start = clock()
                fns[j]()
                times[j].append(clock() - start)
        for name, samples in zip(names, times, strict=True):
            out[name]["median"].append(statistics.median(samples))
            out[name]["mean"].append(statistics.fmean(samples))
    return out


def settings(redis_url: str, database_url: str, **env: str) -> Any:
    from service.config import Settings

    state = tempfile.mkdtemp(prefix="cachewatch-bench-")
    return Settings.from_env(
        {
            "CACHEWATCH_STATE_DIR": state,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            **env,
        }
    )


def cachewatch_app(
    redis_url: str, database_url: str, wait_for_tracking: bool = True, **env: str
) -> Any:
    from prometheus_client import CollectorRegistry

    from service.app import create_app

    app = create_app(settings(redis_url, database_url, **env), registry=CollectorRegistry())
    near = app.extensions["cachewatch.cache"].near
    if near is not None and wait_for_tracking:
        near.start()
        deadline = time.monotonic() + 5
        while not near.listener.connected and time.monotonic() < deadline:
            time.sleep(0.01)
    return app


def hits(app: Any, tier: str) -> float:
    cache = app.extensions["cachewatch.cache"]
    total = 0.0
    for family in cache.metrics.registry.collect():
        for s in family.samples:
            if s.name == "cachewatch_cache_hits_total" and s.labels.get("tier") == tier:
                total += s.value
    return total


def warm(calls: Iterable[Call], times: int = 20) -> None:
    for call in calls:
        for _ in range(times):
            call()


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    """The hit path of cachewatch (local and Redis tiers) against the bare route and Redis GET."""
    from bench import apps
    from service.keys import cache_key
    from service.store import make_client

    path = "/api/property-types/buy"
    local = cachewatch_app(args.redis_url, args.database_url)
    remote = cachewatch_app(args.redis_url, args.database_url, CACHE_NEAR_SIZE="0")
    variants: dict[str, Call] = {
        "bare": wsgi_call(apps.bare(), path),
        "cachewatch_local": wsgi_call(local, path),
        "cachewatch_redis": wsgi_call(remote, path),
        "redis_get": wsgi_call(apps.redis_get(), path),
        "flask_caching": wsgi_call(apps.flask_caching(), path),
    }
    warm(variants.values())
    client = make_client(args.redis_url, 0.5, 0.5)
    key = cache_key("property_types", {"listing_type": "buy"}).key
    raw = client.get(key)
    assert raw is not None, "the entry is not in Redis"
    variants["redis_rtt"] = lambda: client.get(key)  # type: ignore[assignment,return-value]
    metric_calls = _metric_calls(local)
    variants.update(metric_calls)
    before = {"local": hits(local, "local"), "redis": hits(remote, "redis")}
    timings = interleave(variants, args.rounds, args.calls)
    return {
        "timings": timings,
        "local_hits": hits(local, "local") - before["local"],
        "redis_hits": hits(remote, "redis") - before["redis"],
        "calls": args.calls,
        "rounds": args.rounds,
        "multiprocess": bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR")),
    }


def _metric_calls(app: Any) -> dict[str, Call]:
    """The metric updates of one local hit, alone: counter, hit age, request histogram."""
    cache = app.extensions["cachewatch.cache"]
    m = cache.metrics.endpoint("property_types")
    requests = cache.metrics.request_seconds.labels("property_types", "hit", "2xx")

    def metrics_of_a_hit() -> bytes:
        m.hit_local.inc()
        m.hit_age.observe(12.0)
        requests.observe(0.0004)
        return b""

    return {"metrics_only": metrics_of_a_hit}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc")
    parser.add_argument("what", choices=["overhead", "degraded"])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--paused-redis-url", default="")
    parser.add_argument("--dead-redis-url", default="")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.what == "overhead":
        result = overhead(args)
    else:
        from bench.degraded_inproc import degraded

        result = degraded(args)
    sys.stdout.write("BENCH_JSON " + json.dumps(result) + "\n")
    return 0


def run_child(what: str, state: Path, **options: object) -> dict[str, Any]:
    """Run `python -m bench.inproc what ...` in a child set up like a gunicorn worker."""
    import shutil
    import subprocess

    from bench.servers import REPO

    folder = Path(tempfile.mkdtemp(prefix="cachewatch-inproc-", dir=state))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
    env.update(PROMETHEUS_MULTIPROC_DIR=str(folder), PYTHONPATH=str(REPO))
    env["BENCH_PAYLOAD_FILE"] = str(options.pop("payload_file", ""))
    env["REDIS_URL"] = str(options.get("redis_url", ""))
    argv = [sys.executable, "-m", "bench.inproc", what]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(
            f"bench.inproc {what} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    return result


if __name__ == "__main__":
    sys.exit(main())
