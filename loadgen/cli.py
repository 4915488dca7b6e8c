"""`cachewatch load`: realistic traffic for demos, tests and benchmarks.

    cachewatch load --rate 20 --duration 30                 # 30 s of Zipf-shaped traffic
    cachewatch load --keys 50 --requests 500 --concurrency 1 --seed 1
                                                            # 50 keys in turn: 90 % hits when cold
    cachewatch load --rate 0 --requests 10000 --json out.json   # as fast as 4 threads go

Targets 127.0.0.1 only, unless --allow-remote. Prints a progress bar (on a
terminal) and a closing summary: status codes, X-Cache results, hit ratio,
latency percentiles by result.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from loadgen.catalog import ServiceUnavailable
from loadgen.guard import BadTarget, RemoteTarget
from loadgen.runner import run as run_traffic
from loadgen.summary import Result
from loadgen.traffic import DEFAULT_MIX, Mix


def _default_url() -> str:
    port = os.environ.get("CACHEWATCH_PORT", "").strip() or "8000"
    return os.environ.get("CACHEWATCH_URL", "").strip() or f"http://127.0.0.1:{port}"


def add_arguments(parser: argparse.ArgumentParser, command: str = "load") -> None:
    parser.add_argument(
        "--url",
        action="append",
        help="the service (repeat for replicas; "
        "default CACHEWATCH_URL or http://127.0.0.1:$CACHEWATCH_PORT)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=20.0,
        help="target requests per second over all threads; 0: unpaced (20)",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds at most (30)")
    parser.add_argument("--requests", type=int, help="requests at most (default: no limit)")
    parser.add_argument("--concurrency", type=int, default=4, help="threads (4)")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"endpoint weights ({DEFAULT_MIX})")
    parser.add_argument("--seed", type=int, help="random seed: the same seed, the same requests")
    parser.add_argument(
        "--keys",
        type=int,
        help="request N distinct keys in turn (known "
        "pattern: a cold cache gives one miss per key at --concurrency 1)",
    )
    parser.add_argument("--zipf", type=float, default=1.2, help="Zipf exponent of popularity (1.2)")
    parser.add_argument(
        "--queries",
        type=int,
        default=1000,
        help="distinct popular valuations to pick from by Zipf rank; 0: every one new (1000)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds (10)")
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="seconds to wait for the service's /readyz first (0)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--report-every",
        type=float,
        metavar="SECONDS",
        help="print a one-line status this often (for logs, e.g. `make up`)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the summary here")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a target that is not on this machine"
    )


class _Reporter:
    """Progress for humans (tqdm on a terminal) or for logs (a line every N seconds)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.bar: Any = None
        self.every = args.report_every
        self.last = time.monotonic()
        self.count = 0
        self.hits = 0
        self.lookups = 0
        if not args.no_progress and sys.stderr.isatty() and not self.every:
            from tqdm import tqdm

            total = args.requests
            if total is None and args.rate:
                total = int(args.rate * args.duration)
            self.bar = tqdm(total=total, unit="req", desc="cachewatch load", dynamic_ncols=True)

    def __call__(self, result: Result) -> None:
        self.count += 1
        if result.cache in ("HIT", "MISS"):
            self.lookups += 1
            self.hits += result.cache == "HIT"
        if self.bar is not None:
            self.bar.update(1)
            if self.count % 50 == 0 and self.lookups:
                self.bar.set_postfix(hit_ratio=f"{self.hits / self.lookups:.1%}")
        elif self.every and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            ratio = f"{self.hits / self.lookups:.1%}" if self.lookups else "-"
            print(f"cachewatch load: {self.count} requests, hit ratio {ratio}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace, command: str = "load") -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    reporter = _Reporter(args)
    try:
        summary = run_traffic(
            args.url or [_default_url()],
            rate=args.rate or None,
            duration=args.duration,
            requests=args.requests,
            concurrency=args.concurrency,
            mix=Mix.parse(args.mix),
            seed=args.seed,
            keys=args.keys,
            zipf=args.zipf,
            queries=args.queries,
            timeout=args.timeout,
            wait=args.wait,
            allow_remote=args.allow_remote,
            stop=stop,
            on_result=reporter,
        )
    except (RemoteTarget, BadTarget, ValueError) as exc:
        print(f"cachewatch load: {exc}", file=sys.stderr)
        return 2
    except ServiceUnavailable as exc:
        print(f"cachewatch load: {exc}", file=sys.stderr)
        return 1
    finally:
        reporter.close()
    print(summary.format(), flush=True)
    if args.json:
        args.json.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return 0
