"""The service's subcommands: `cachewatch serve` and `cachewatch seed-db`."""

from __future__ import annotations

import argparse

from service.config import Settings


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "serve":
        parser.add_argument(
            "--port", type=int, help="port to listen on (default: CACHEWATCH_PORT or 8000)"
        )
        parser.add_argument(
            "--host", help="address to bind (default: CACHEWATCH_BIND_HOST or 127.0.0.1)"
        )
        parser.add_argument(
            "--workers", type=int, help="gunicorn workers (default: WEB_CONCURRENCY or 2)"
        )
    elif command == "seed-db":
        parser.add_argument(
            "--listings", type=int, help="how many listings (default: CACHEWATCH_SEED_LISTINGS)"
        )


def run(args: argparse.Namespace, command: str) -> int:
    settings = Settings.from_env()
    if command == "seed-db":
        from service import db

        count = args.listings if args.listings is not None else settings.seed_listings
        engine = db.connect(settings.database_url)
        if db.ensure_seeded(engine, count, settings.seed):
            print(f"seeded {count} listings into {settings.database_url}")
        else:
            print(f"{settings.database_url} already holds {db.listing_count(engine)} listings")
        return 0
    from service.serve import serve

    changes = {"port": args.port, "bind_host": args.host, "workers": args.workers}
    serve(settings.replace(**{k: v for k, v in changes.items() if v is not None}))
    return 0
