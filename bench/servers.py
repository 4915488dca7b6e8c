"""The servers a benchmark starts: cachewatch and the alternatives, under gunicorn on free ports.

    with RedisServer() as redis_server, Cachewatch(redis_server.url, db_url) as svc:
        get(svc.port, "/api/areas/buy")

Built on tests/support/procs.py (ManagedProcess, RedisServer, ServiceProcess):
each process has its own temporary folder and log, and is stopped on exit.
Every server runs the interpreter running the benchmark, so no virtualenv path
is assumed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from service.config import Settings
from tests.support.procs import REPO, ManagedProcess, RedisServer, ServiceProcess, http_ok

__all__ = [
    "DEFAULT",
    "REPO",
    "AltServer",
    "Cachewatch",
    "RedisServer",
    "describe",
    "gunicorn_flags",
]

ADMIN_TOKEN = "bench-admin-token-0123456789"

#: The service's defaults (WEB_CONCURRENCY workers, GUNICORN_THREADS threads): every
#: server a benchmark starts runs with them unless the benchmark is about changing them.
DEFAULT = Settings()


def describe(workers: int, threads: int) -> str:
    """`2 gthread workers × 4 threads`, or `2 sync workers`."""
    if threads > 1:
        return f"{workers} gthread workers × {threads} threads"
    return f"{workers} sync workers"


def gunicorn_flags(workers: int, threads: int) -> list[str]:
    """The gunicorn settings of `cachewatch serve` (service/serve.py), as command-line flags."""
    return [
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--backlog", "2048",
        "--timeout", "60",
        "--graceful-timeout", "10",
        "--log-level", "warning",
    ]  # fmt: skip


class Cachewatch(ServiceProcess):
    """`cachewatch serve` on a shared, already seeded database."""

    name = "cachewatch"
    ready_timeout = 120.0

    def __init__(
        self,
        redis_url: str,
        database_url: str,
        *,
        workers: int = DEFAULT.workers,
        threads: int = DEFAULT.threads,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(redis_url, database_url=database_url, workers=workers, env=env)
        self.threads = threads

    def command(self) -> Sequence[str]:
        return [sys.executable, "-m", "cachewatch", "serve", "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(GUNICORN_THREADS=str(self.threads), CACHEWATCH_ADMIN_TOKEN=ADMIN_TOKEN)
        env.update(self.extra_env)
        return env


class AltServer(ManagedProcess):
    """One of bench/apps.py's alternatives under gunicorn, with cachewatch's gunicorn settings."""

    name = "alternative"

    def __init__(
        self,
        factory: str,
        payload_file: Path,
        redis_url: str,
        *,
        workers: int = DEFAULT.workers,
        threads: int = DEFAULT.threads,
    ) -> None:
        super().__init__()
        self.factory = factory
        self.payload_file = payload_file
        self.redis_url = redis_url
        self.workers = workers
        self.threads = threads

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> Sequence[str]:
        return [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            *gunicorn_flags(self.workers, self.threads),
            f"bench.apps:{self.factory}()",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
        env.update(
            PYTHONPATH=str(REPO),
            BENCH_PAYLOAD_FILE=str(self.payload_file),
            REDIS_URL=self.redis_url,
        )
        return env

    def is_ready(self) -> bool:
        return http_ok(f"{self.url}/api/property-types/buy")()
