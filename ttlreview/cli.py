"""The ``cachewatch ttl-review`` and ``cachewatch ttl-export`` commands, as functions to hook in.

    parser = subparsers.add_parser("ttl-review", help="...")
    add_review_arguments(parser)
    parser.set_defaults(func=run_review)          # run_review(args) -> exit status

Also runnable alone: ``python -m ttlreview review --trace trace.csv --out out/``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import redis

from ttlreview.events import STREAM_KEY, EventError
from ttlreview.recommend import Budgets

_DURATION = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def default_redis_url(env: Mapping[str, str] | None = None) -> str:
    """The Redis holding the events stream: ``$REDIS_URL``, else the local one.

    >>> default_redis_url({}), default_redis_url({"REDIS_URL": "redis://cache:6379/1"})
    ('redis://127.0.0.1:6379/0', 'redis://cache:6379/1')
    """
    env = os.environ if env is None else env
    return env.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL


def default_out_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where ``cachewatch ttl-review`` writes by default (and the dashboard's TTL page reads).

    >>> str(default_out_dir({})), str(default_out_dir({"CACHEWATCH_STATE_DIR": "/srv/state"}))
    ('.state/ttl-review', '/srv/state/ttl-review')
    """
    env = os.environ if env is None else env
    return Path(env.get("CACHEWATCH_STATE_DIR", "").strip() or ".state") / "ttl-review"


def parse_duration(text: str) -> float:
    """``"90"`` → 90.0, ``"5m"`` → 300.0, ``"1.5h"`` → 5400.0, ``"1d"`` → 86400.0."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _DURATION or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30, 30s, 5m, 1h, 1d)")
    return float(match.group(1)) * _DURATION[match.group(2)]


def parse_ttls(text: str) -> list[float]:
    """A comma list of durations: ``"30s,5m,1h"``."""
    return [parse_duration(part) for part in text.split(",") if part.strip()]


def parse_mapping(text: str, convert: Callable[[str], float] = float) -> dict[str, float]:
    """``"areas=3600,valuation=300"`` → ``{"areas": 3600.0, "valuation": 300.0}``."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, raw = part.partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"expected endpoint=value, not {part!r}")
        out[name.strip()] = convert(raw)
    return out


def _rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("a sampling rate is in (0, 1]")
    return value


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis-url",
        default=default_redis_url(),
        help="Redis holding the event stream (default: $REDIS_URL or redis://127.0.0.1:6379/0)",
    )
    parser.add_argument("--stream-key", default=STREAM_KEY, help=f"default {STREAM_KEY}")
    parser.add_argument("--days", type=float, default=7.0, help="window to read (default 7)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``cachewatch ttl-review``."""
    _source_arguments(parser)
    parser.add_argument("--trace", type=Path, help="review this CSV trace instead of the stream")
    parser.add_argument("--rate", type=_rate, help="the rate the trace was sampled at (default 1)")
    parser.add_argument(
        "--sample-rate", type=_rate, help="sample the keys further at this rate (SHARDS)"
    )
    parser.add_argument(
        "--ttls", type=parse_ttls, help="candidate TTLs, e.g. 30s,5m,1h,6h (default: 16, 30s-24h)"
    )
    parser.add_argument("--out", type=Path, default=default_out_dir(), help="output folder")
    parser.add_argument("--staleness-budget", default="1%", help="stale hits/requests (1%%)")
    parser.add_argument("--memory-budget", default="64MiB", help="memory budget (64MiB)")
    parser.add_argument(
        "--memory-scope", choices=("total", "endpoint"), default="total",
        help="the memory budget holds for all endpoints together (total) or each one",
    )  # fmt: skip
    parser.add_argument(
        "--deployed-ttl", type=lambda t: parse_mapping(t, parse_duration),
        help="override the deployed TTLs: areas=1h,valuation=5m",
    )  # fmt: skip
    parser.add_argument(
        "--entry-size", type=parse_mapping, help="bytes per entry where events carry none"
    )
    parser.add_argument("--groups", type=int, default=20, help="sub-samples for the CI (20)")
    parser.add_argument(
        "--burst-threshold", type=int, default=10, help="requests within 1 s of an expiry (10)"
    )


def run_review(args: argparse.Namespace) -> int:
    """Run the review; print the recommendations and where the files went. Exit status."""
    from ttlreview.review import run

    try:
        budgets = Budgets.parse(args.staleness_budget, args.memory_budget, args.memory_scope)
        review = run(
            args.out,
            trace=args.trace,
            redis_url=None if args.trace else args.redis_url,
            stream_key=args.stream_key,
            days=args.days,
            rate=args.rate,
            sample_rate=args.sample_rate,
            progress=not args.no_progress and sys.stderr.isatty(),
            ttls=args.ttls,
            budgets=budgets,
            groups=args.groups,
            deployed_ttl=args.deployed_ttl,
            default_sizes=args.entry_size,
            burst_threshold=args.burst_threshold,
        )
    except (EventError, ValueError, OSError, redis.RedisError) as exc:
        print(f"ttl-review: {exc}", file=sys.stderr)
        return 2
    for reason in review.recommendations["reason"]:
        print(reason)
    for warning in review.meta["warnings"]:
        print(f"caveat: {warning}", file=sys.stderr)
    print(f"wrote {args.out}/summary.md, report.html, ttl_curve.csv, recommendations.csv")
    return 0


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``cachewatch ttl-export``."""
    _source_arguments(parser)
    parser.add_argument("--out", default="-", help="CSV trace to write (default: standard output)")


def run_export(args: argparse.Namespace) -> int:
    """Write the stream's last ``--days`` as a CSV trace. Exit status."""
    from ttlreview.stream import connect, export_trace

    since = time.time() - args.days * 86400
    progress = not args.no_progress and sys.stderr.isatty()
    try:
        client = connect(args.redis_url)
        if args.out == "-":
            rows, rates = export_trace(client, sys.stdout, args.stream_key, since, None, progress)
        else:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            with open(args.out, "w", newline="") as target:
                rows, rates = export_trace(client, target, args.stream_key, since, None, progress)
    except (OSError, redis.RedisError) as exc:
        print(f"ttl-export: {exc}", file=sys.stderr)
        return 2
    print(f"ttl-export: {rows} events written", file=sys.stderr)
    if rates and min(rates.values()) < 1:
        listed = ", ".join(f"{e}={r:g}" for e, r in rates.items())
        print(f"ttl-export: sampled at {listed}: review with --rate", file=sys.stderr)
    return 0


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The `cachewatch ttl-review` and `cachewatch ttl-export` options (cachewatch/cli.py)."""
    if command == "ttl-export":
        add_export_arguments(parser)
    else:
        add_review_arguments(parser)


def run(args: argparse.Namespace, command: str) -> int:
    return run_export(args) if command == "ttl-export" else run_review(args)


def main(argv: list[str] | None = None) -> int:
    """``python -m ttlreview review|export ...``."""
    parser = argparse.ArgumentParser(prog="python -m ttlreview")
    sub = parser.add_subparsers(dest="command", required=True)
    add_review_arguments(sub.add_parser("review", help="what-if TTL review"))
    add_export_arguments(sub.add_parser("export", help="stream to CSV trace"))
    args = parser.parse_args(argv)
    return run_review(args) if args.command == "review" else run_export(args)
